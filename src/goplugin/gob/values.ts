// What the decoder hands out. Go values keep their Go shape: struct fields under their Go names, zero
// fields absent (gob never sends them), maps as `Map` (Go keys need not be strings).

import type { GobTime } from './time.js';

/**
 * A decoded struct: own properties are the Go field names that were sent. The prototype carries the
 * wire type name (see {@link gobTypeName}); it is not `Object.prototype`, so wire-chosen names can never
 * reach it.
 */
export interface GobStruct {
  [field: string]: GobValue;
}

/** A non-nil interface value: the name the sender registered (`gob.RegisterName`) and the concrete value. */
export class GobInterface {
  constructor(
    readonly name: string,
    readonly value: GobValue,
  ) {}
}

/**
 * A GobEncoder / BinaryMarshaler / TextMarshaler value other than a time: the sender's opaque bytes and the
 * name of its wire type.
 */
export class GobOpaque {
  constructor(
    readonly typeName: string,
    readonly bytes: Uint8Array,
  ) {}
}

export class GobComplex {
  constructor(
    readonly real: number,
    readonly imag: number,
  ) {}
}

/**
 * One decoded gob value.
 * - bool → boolean; float → number; string → string (invalid UTF-8 becomes U+FFFD); `[]byte` → Uint8Array
 * - signed/unsigned integers → number, or bigint when beyond ±(2^53 − 1)
 * - struct → {@link GobStruct}; slice/array → array; map → Map
 * - interface → {@link GobInterface}, or null when nil
 * - GobEncoder/BinaryMarshaler: `Time`/`MicroTime` in Go's time format → {@link GobTime}, else {@link GobOpaque}
 */
export type GobValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | GobValue[]
  | Map<GobValue, GobValue>
  | GobStruct
  | GobInterface
  | GobOpaque
  | GobTime
  | GobComplex;

/** Key of the wire type name on the prototype of every decoded struct. */
export const GOB_TYPE_NAME: unique symbol = Symbol('gob.typeName');

/** The wire name of a decoded struct's type (`Rollout`, `IntOrString`; `""` for anonymous structs). */
export function gobTypeName(v: unknown): string | undefined {
  // One property read: only the prototypes the decoder makes for structs carry the symbol.
  return typeof v === 'object' && v !== null ? (v as { [GOB_TYPE_NAME]?: string })[GOB_TYPE_NAME] : undefined;
}

/** True for a decoded struct (not a Map, array, bytes, interface or opaque value). */
export function isGobStruct(v: unknown): v is GobStruct {
  return gobTypeName(v) !== undefined;
}
