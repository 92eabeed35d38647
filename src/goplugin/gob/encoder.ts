// A gob encoder for the fixed set of types the plugin sends (net/rpc headers and Argo's reply types).
// One instance per stream and direction: each type definition goes out once, before its first use, and
// the Go decoder on the other side remembers it for the life of the stream. Getting a byte wrong here
// is silent and permanent (Go's rpc client stops reading the stream), so the output is pinned by golden
// vectors and decoded by Go in the tests.

import { GobError } from './errors.js';
import { BuiltinId } from './wire.js';

/** Scalar kinds the encoder writes. `interface` only encodes nil (net/rpc's `new(any)` arguments). */
export type GobScalarKind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'bytes' | 'interface';

export interface GobStructType {
  readonly kind: 'struct';
  /** Key for {@link GobEncoderOptions.typeIds}. */
  readonly key: string;
  /** Name sent in the definition (Go only shows it in error messages); `''` for anonymous structs. */
  readonly name: string;
  readonly defaultId: number;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: GobEncType }>;
}

/**
 * A type Go sends through its GobEncode method (time.Time, metav1.Time): the definition is a GobEncoderT.
 * Only encoded as a struct field: a nil pointer is left out, a value is the GobEncode bytes (for a time,
 * `goTimeBinary` in time.ts).
 */
export interface GobExternalType {
  readonly kind: 'gobEncoder';
  readonly key: string;
  /**
   * Name sent in the definition. Go sends `''` for a pointer field such as `*time.Time` (it names the
   * pointer type, which has no name) and `Time` for a value field; its decoder ignores the name.
   */
  readonly name: string;
  readonly defaultId: number;
}

/**
 * A map of scalars (`map[string]string`): the definition is a MapT. A value is a plain object; its entries go
 * out in the object's order (Go's own order is random, so no reader depends on it).
 */
export interface GobMapType {
  readonly kind: 'map';
  readonly key: string;
  /** Name sent in the definition; Go names an unnamed map type by its Go syntax, `map[string]string`. */
  readonly name: string;
  readonly defaultId: number;
  readonly keyKind: GobScalarKind;
  readonly elemKind: GobScalarKind;
}

export type GobEncType = GobScalarKind | GobStructType | GobExternalType | GobMapType;

/** A value to encode: structs as objects keyed by Go field names (missing = zero; null for a nil pointer). */
export type GobEncValue = boolean | number | bigint | string | Uint8Array | null | { readonly [field: string]: GobEncValue | undefined };

const SCALAR_IDS: Record<GobScalarKind, number> = {
  bool: BuiltinId.Bool,
  int: BuiltinId.Int,
  uint: BuiltinId.Uint,
  float: BuiltinId.Float,
  string: BuiltinId.String,
  bytes: BuiltinId.Bytes,
  interface: BuiltinId.Interface,
};

/** net/rpc's request header (client → server). */
export const REQUEST_TYPE: GobStructType = {
  kind: 'struct',
  key: 'Request',
  name: 'Request',
  defaultId: 65,
  fields: [
    { name: 'ServiceMethod', type: 'string' },
    { name: 'Seq', type: 'uint' },
  ],
};

/** net/rpc's response header (server → client). */
export const RESPONSE_TYPE: GobStructType = {
  kind: 'struct',
  key: 'Response',
  name: 'Response',
  defaultId: 65,
  fields: [
    { name: 'ServiceMethod', type: 'string' },
    { name: 'Seq', type: 'uint' },
    { name: 'Error', type: 'string' },
  ],
};

/** `struct{}`: Control.Ping/Quit replies and the body of every error reply. */
export const EMPTY_STRUCT_TYPE: GobStructType = { kind: 'struct', key: 'Empty', name: '', defaultId: 66, fields: [] };

/** Argo's `types.RpcError`. */
export const RPC_ERROR_TYPE: GobStructType = {
  kind: 'struct',
  key: 'RpcError',
  name: 'RpcError',
  defaultId: 67,
  fields: [{ name: 'ErrorString', type: 'string' }],
};

/** Argo's `VerifyWeightResponse{Verified types.RpcVerified (int32); Err types.RpcError}`. */
export const VERIFY_WEIGHT_RESPONSE_TYPE: GobStructType = {
  kind: 'struct',
  key: 'VerifyWeightResponse',
  name: 'VerifyWeightResponse',
  defaultId: 68,
  fields: [
    { name: 'Verified', type: 'int' },
    { name: 'Err', type: RPC_ERROR_TYPE },
  ],
};

/**
 * `*time.Time` as a struct field. Go's definition of it carries no name and, as its inner id, a second id
 * Go allocates for the pointer type and never uses again; we repeat the outer id there (decoders ignore it).
 */
export const TIME_POINTER_TYPE: GobExternalType = { kind: 'gobEncoder', key: 'Time', name: '', defaultId: 70 };

/**
 * `WeightUpdateDeadlineResponse{Deadline *time.Time; Err types.RpcError}`, the reply of
 * Plugin.GetWeightUpdateDeadline on Argo master (after v1.10).
 */
export const WEIGHT_UPDATE_DEADLINE_RESPONSE_TYPE: GobStructType = {
  kind: 'struct',
  key: 'WeightUpdateDeadlineResponse',
  name: 'WeightUpdateDeadlineResponse',
  defaultId: 69,
  fields: [
    { name: 'Deadline', type: TIME_POINTER_TYPE },
    { name: 'Err', type: RPC_ERROR_TYPE },
  ],
};

/** `map[string]string`: Measurement.Metadata, and the reply of the metric provider's Plugin.GetMetadata. */
export const STRING_MAP_TYPE: GobMapType = {
  kind: 'map',
  key: 'StringMap',
  name: 'map[string]string',
  defaultId: 72,
  keyKind: 'string',
  elemKind: 'string',
};

/**
 * Argo's `v1alpha1.Measurement` (pkg/apis/rollouts/v1alpha1/analysis_types.go), the reply of the metric
 * provider's Plugin.Run, Resume and Terminate. Its times are `*metav1.Time`, which gob sends through
 * time.Time's GobEncode, exactly like the `*time.Time` of WeightUpdateDeadlineResponse (one shared id).
 */
export const MEASUREMENT_TYPE: GobStructType = {
  kind: 'struct',
  key: 'Measurement',
  name: 'Measurement',
  defaultId: 71,
  fields: [
    { name: 'Phase', type: 'string' },
    { name: 'Message', type: 'string' },
    { name: 'StartedAt', type: TIME_POINTER_TYPE },
    { name: 'FinishedAt', type: TIME_POINTER_TYPE },
    { name: 'Value', type: 'string' },
    { name: 'Metadata', type: STRING_MAP_TYPE },
    { name: 'ResumeAt', type: TIME_POINTER_TYPE },
  ],
};

/** A Measurement in its Go shape: times as Go's time binary form (`goTimeBinary`), absent or null for nil. */
export type GoMeasurement = {
  readonly Phase: string;
  readonly Message?: string;
  readonly StartedAt?: Uint8Array | null;
  readonly FinishedAt?: Uint8Array | null;
  readonly Value?: string;
  /** Absent or null: a nil map (not sent); `{}`: an empty map (sent, as Go sends a non-nil one). */
  readonly Metadata?: Readonly<Record<string, string>> | null;
  readonly ResumeAt?: Uint8Array | null;
};

export interface GobEncoderOptions {
  /**
   * Type id per type key (`Response`, `Empty`, `RpcError`, `Time`, …), overriding each type's default
   * (docs/plugin-protocol.md: Response 65, Empty 66, RpcError 67, VerifyWeightResponse 68; then
   * WeightUpdateDeadlineResponse 69, Time 70, Measurement 71 and StringMap 72). Ids must be
   * ≥ 64 and distinct; Go maps them per stream, so any choice works.
   */
  typeIds?: Readonly<Record<string, number>>;
}

export interface RpcHeader {
  ServiceMethod: string;
  Seq: number | bigint;
  /** Response only; "" (or absent) for success. */
  Error?: string;
}

export class GobEncoder {
  private readonly typeIds: Readonly<Record<string, number>>;
  private readonly sent = new Set<number>();
  private readonly idOwner = new Map<number, string>();

  constructor(options: GobEncoderOptions = {}) {
    this.typeIds = options.typeIds ?? {};
  }

  /** One top-level value, preceded by the definitions this stream has not seen yet. */
  encode(type: GobEncType, value: GobEncValue): Buffer {
    const out = new ByteWriter();
    if (typeof type !== 'string' && type.kind === 'gobEncoder') {
      throw new GobError(`${type.key} is only encoded as a struct field`);
    }
    if (typeof type !== 'string') this.sendDefinitions(type, out);
    const msg = new ByteWriter();
    if (typeof type === 'string') {
      msg.int(SCALAR_IDS[type]);
      msg.uint(0); // singleton: field delta 0
      writeScalar(msg, type, value);
    } else if (type.kind === 'map') {
      msg.int(this.idOf(type));
      msg.uint(0); // singleton: field delta 0
      writeMap(msg, type, value);
    } else {
      msg.int(this.idOf(type));
      this.writeStruct(msg, type, value);
    }
    out.message(msg);
    return out.toBuffer();
  }

  encodeRequest(header: RpcHeader): Buffer {
    return this.encode(REQUEST_TYPE, { ServiceMethod: header.ServiceMethod, Seq: header.Seq });
  }

  encodeResponse(header: RpcHeader): Buffer {
    return this.encode(RESPONSE_TYPE, { ServiceMethod: header.ServiceMethod, Seq: header.Seq, Error: header.Error ?? '' });
  }

  encodeRpcError(errorString: string): Buffer {
    return this.encode(RPC_ERROR_TYPE, { ErrorString: errorString });
  }

  encodeVerifyWeightResponse(verified: number, err = ''): Buffer {
    return this.encode(VERIFY_WEIGHT_RESPONSE_TYPE, { Verified: verified, Err: { ErrorString: err } });
  }

  /** Always with a nil Deadline ("no delay pending"): the plugin never delays a weight update. */
  encodeWeightUpdateDeadlineResponse(err = ''): Buffer {
    return this.encode(WEIGHT_UPDATE_DEADLINE_RESPONSE_TYPE, { Deadline: null, Err: { ErrorString: err } });
  }

  encodeMeasurement(m: GoMeasurement): Buffer {
    return this.encode(MEASUREMENT_TYPE, m);
  }

  /** A top-level `map[string]string`; Go sends a nil map as an empty one here, so there is no nil. */
  encodeStringMap(m: Readonly<Record<string, string>>): Buffer {
    return this.encode(STRING_MAP_TYPE, m);
  }

  encodeEmptyStruct(): Buffer {
    return this.encode(EMPTY_STRUCT_TYPE, {});
  }

  encodeString(s: string): Buffer {
    return this.encode('string', s);
  }

  /** Any unsigned integer kind (the Dispenser's uint32 broker id). */
  encodeUint(n: number | bigint): Buffer {
    return this.encode('uint', n);
  }

  encodeBool(b: boolean): Buffer {
    return this.encode('bool', b);
  }

  /** `new(any)`: what Argo sends as the argument of InitPlugin and Type. */
  encodeNilInterface(): Buffer {
    return this.encode('interface', null);
  }

  private idOf(type: GobStructType | GobExternalType | GobMapType): number {
    const id = this.typeIds[type.key] ?? type.defaultId;
    const owner = this.idOwner.get(id);
    if (owner === undefined) {
      if (!Number.isInteger(id) || id < 64) throw new GobError(`type id ${id} for ${type.key} must be an integer >= 64`);
      this.idOwner.set(id, type.key);
    } else if (owner !== type.key) {
      throw new GobError(`type id ${id} is used by both ${owner} and ${type.key}; give them distinct typeIds`);
    }
    return id;
  }

  /**
   * Field types first, so every id a definition names is already known to the peer. Go's encoder sends a
   * struct before its field types; its decoder resolves ids only when a value arrives, so both orders work
   * (docs/plugin-protocol.md asks for this one).
   */
  private sendDefinitions(type: GobStructType | GobExternalType | GobMapType, out: ByteWriter): void {
    const id = this.idOf(type);
    if (this.sent.has(id)) return;
    const msg = new ByteWriter();
    msg.int(-id);
    if (type.kind === 'map') {
      msg.uint(4); // wireType field 3: MapT
      msg.uint(1); //   mapType field 0: CommonType
      writeCommonType(msg, type.name, id);
      msg.uint(1); //   Key
      msg.int(SCALAR_IDS[type.keyKind]);
      msg.uint(1); //   Elem
      msg.int(SCALAR_IDS[type.elemKind]);
      msg.uint(0); // end mapType
      msg.uint(0); // end wireType
      out.message(msg);
      this.sent.add(id);
      return;
    }
    if (type.kind === 'gobEncoder') {
      msg.uint(5); // wireType field 4: GobEncoderT
      msg.uint(1); //   gobEncoderType field 0: CommonType
      writeCommonType(msg, type.name, id);
      msg.uint(0); // end gobEncoderType
      msg.uint(0); // end wireType
      out.message(msg);
      this.sent.add(id);
      return;
    }
    for (const f of type.fields) if (typeof f.type !== 'string') this.sendDefinitions(f.type, out);
    msg.uint(3); // wireType field 2: StructT
    msg.uint(1); //   structType field 0: CommonType
    writeCommonType(msg, type.name, id);
    if (type.fields.length > 0) {
      msg.uint(1); //   structType field 1: Field []*fieldType
      msg.uint(type.fields.length);
      for (const f of type.fields) {
        msg.uint(1);
        msg.string(f.name);
        msg.uint(1);
        msg.int(typeof f.type === 'string' ? SCALAR_IDS[f.type] : this.idOf(f.type));
        msg.uint(0);
      }
    }
    msg.uint(0); // end structType
    msg.uint(0); // end wireType
    out.message(msg);
    this.sent.add(id);
  }

  private writeStruct(msg: ByteWriter, type: GobStructType, value: GobEncValue): void {
    if (typeof value !== 'object' || value === null || value instanceof Uint8Array) {
      throw new GobError(`value for struct ${type.key} must be an object`);
    }
    let last = -1;
    type.fields.forEach((f, i) => {
      const v = value[f.name];
      if (typeof f.type === 'string') {
        if (v === undefined || isZero(f.type, v)) return;
        msg.uint(i - last);
        writeScalar(msg, f.type, v);
      } else if (f.type.kind === 'gobEncoder') {
        // A nil pointer is not sent, like every zero field; a value is its GobEncode bytes.
        if (v === undefined || v === null) return;
        if (!(v instanceof Uint8Array)) throw new GobError(`${type.key}.${f.name}: a ${f.type.key} must be given as its GobEncode bytes`);
        msg.uint(i - last);
        msg.uint(v.length);
        msg.raw(v);
      } else if (f.type.kind === 'map') {
        // A nil map is not sent; an empty one is (Go sends every non-nil map).
        if (v === undefined || v === null) return;
        msg.uint(i - last);
        writeMap(msg, f.type, v);
      } else {
        // Non-pointer struct fields are always sent, even when all their fields are zero.
        msg.uint(i - last);
        this.writeStruct(msg, f.type, v ?? {});
      }
      last = i;
    });
    msg.uint(0);
  }
}

/** Element count, then each key and element (no field deltas inside a map). */
function writeMap(msg: ByteWriter, type: GobMapType, value: GobEncValue): void {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) {
    throw new GobError(`value for map ${type.key} must be an object`);
  }
  const entries = Object.entries(value);
  msg.uint(entries.length);
  for (const [k, e] of entries) {
    if (e === undefined) throw new GobError(`map ${type.key}: entry ${JSON.stringify(k)} has no value`);
    writeScalar(msg, type.keyKind, k);
    writeScalar(msg, type.elemKind, e);
  }
}

/** CommonType{Name, Id}; an empty name is a zero field and is not sent. */
function writeCommonType(msg: ByteWriter, name: string, id: number): void {
  if (name !== '') {
    msg.uint(1); // Name
    msg.string(name);
    msg.uint(1); // Id
  } else {
    msg.uint(2); // Id
  }
  msg.int(id);
  msg.uint(0); // end CommonType
}

function isZero(kind: GobScalarKind, v: GobEncValue): boolean {
  switch (kind) {
    case 'bytes':
      return v instanceof Uint8Array && v.length === 0;
    case 'interface':
      return v === null;
    default:
      return v === false || v === 0 || v === 0n || v === '';
  }
}

function writeScalar(msg: ByteWriter, kind: GobScalarKind, v: GobEncValue): void {
  switch (kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw new GobError(`expected a boolean, got ${typeof v}`);
      msg.uint(v ? 1 : 0);
      return;
    case 'int':
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new GobError(`expected an integer, got ${typeof v}`);
      msg.int(v);
      return;
    case 'uint':
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new GobError(`expected an integer, got ${typeof v}`);
      msg.uint(v);
      return;
    case 'float':
      if (typeof v !== 'number') throw new GobError(`expected a number, got ${typeof v}`);
      msg.float(v);
      return;
    case 'string':
      if (typeof v !== 'string') throw new GobError(`expected a string, got ${typeof v}`);
      msg.string(v);
      return;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new GobError('expected a Uint8Array');
      msg.uint(v.length);
      msg.raw(v);
      return;
    case 'interface':
      if (v !== null) throw new GobError('only nil interface values can be encoded');
      msg.uint(0);
      return;
  }
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** Appends gob primitives to a growing buffer. */
class ByteWriter {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  uint(v: number | bigint): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) throw new GobError(`cannot encode ${v} as an unsigned integer`);
      if (v < 0x80) {
        this.ensure(1);
        this.buf[this.len++] = v;
        return;
      }
      v = BigInt(v);
    }
    if (v < 0n || v > MAX_UINT64) throw new GobError(`cannot encode ${v} as an unsigned integer`);
    if (v < 0x80n) {
      this.ensure(1);
      this.buf[this.len++] = Number(v);
      return;
    }
    const bytes: number[] = [];
    for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
    this.ensure(1 + bytes.length);
    this.buf[this.len++] = 256 - bytes.length;
    for (const b of bytes) this.buf[this.len++] = b;
  }

  int(v: number | bigint): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new GobError(`cannot encode ${v} as an integer`);
      v = BigInt(v);
    }
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new GobError(`${v} does not fit in an int64`);
    this.uint(v < 0n ? ((~v) << 1n) | 1n : v << 1n);
  }

  float(v: number): void {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, v, true); // little-endian bytes = Float64bits byte-reversed, as a big-endian uint
    this.uint(view.getBigUint64(0, false));
  }

  string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.uint(n);
    this.ensure(n);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Appends `m` as one message: its byte count, then its bytes. */
  message(m: ByteWriter): void {
    this.uint(m.len);
    this.ensure(m.len);
    m.buf.copy(this.buf, this.len, 0, m.len);
    this.len += m.len;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}
