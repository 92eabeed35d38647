// Wire-level numbers of encoding/gob (Go's type.go and doc.go).

/** Predefined type ids. They are never defined on the wire. */
export const enum BuiltinId {
  Bool = 1,
  /** Every signed integer kind. */
  Int = 2,
  /** Every unsigned integer kind, uintptr. */
  Uint = 3,
  /** float32 and float64. */
  Float = 4,
  /** `[]byte` (and so json.RawMessage). */
  Bytes = 5,
  String = 6,
  /** complex64 and complex128. */
  Complex = 7,
  /** Any interface type. */
  Interface = 8,
  /** The bootstrap types gob uses to describe types. */
  WireType = 16,
  ArrayType = 17,
  CommonType = 18,
  SliceType = 19,
  StructType = 20,
  FieldType = 21,
  FieldTypeSlice = 22,
  MapType = 23,
}

/** Lowest id a sender may define; Go's `firstUserId`. */
export const FIRST_USER_ID = 64;

/** Field numbers of `wireType`: exactly one of them is present in a definition. */
export const enum WireTypeField {
  ArrayT = 0,
  SliceT = 1,
  StructT = 2,
  MapT = 3,
  GobEncoderT = 4,
  BinaryMarshalerT = 5,
  TextMarshalerT = 6,
}

/** Seconds from 0001-01-01T00:00:00Z (Go's time epoch) to the Unix epoch. */
export const GO_TO_UNIX_SECONDS = 62135596800;
