// A push-based encoding/gob decoder for one stream (type definitions live as long as the stream).
//
// It mirrors Go's decoder.go / decode.go: a value is read from the "current message"; a new
// length-prefixed message is pulled only inside the type sequence that starts every top-level value and
// every non-nil interface value. Those two places are the only ones where input can run short, so the
// decoder keeps its progress on an explicit stack of frames and simply returns when the next message is
// not complete yet; `feed` more bytes and call `next` again. Nothing is re-parsed and no exception is used
// for "need more bytes". Nesting is bounded by `maxDepth`, so hostile input cannot exhaust the JS stack.

import { GobError } from './errors.js';
import { parseGoTime } from './time.js';
import { BuiltinId, FIRST_USER_ID, WireTypeField } from './wire.js';
import {
  GOB_TYPE_NAME,
  GobComplex,
  GobInterface,
  GobOpaque,
  type GobStruct,
  type GobValue,
} from './values.js';

export interface GobDecoderOptions {
  /** Largest message (declared byte count) accepted. Default 8 MiB (DEFAULT_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
  /** Deepest nesting of structs, slices, arrays, maps and interfaces in one value. Default 100. */
  maxDepth?: number;
  /** Most type definitions one stream may send. Default 10 000 (a full Rollout needs a few hundred). */
  maxTypes?: number;
}

/**
 * 8 MiB: far above any Rollout Argo can send (the API server stores objects of at most 1.5 MiB by default, and a
 * 4000-container Rollout, beyond that already, is 3.3 MiB of gob), and small enough that a stream's buffer (at
 * most twice this) fits the sidecar's container beside everything else.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 100;
export const DEFAULT_MAX_TYPES = 10_000;

const enum Kind {
  Bool,
  Int,
  Uint,
  Float,
  Bytes,
  String,
  Complex,
  Interface,
  Struct,
  Slice,
  Array,
  Map,
  Opaque,
}

interface FieldInfo {
  readonly name: string;
  readonly id: number;
  /** Resolved on first use: definitions may name ids that arrive later. */
  type?: TypeInfo;
}

interface TypeInfo {
  readonly id: number;
  readonly kind: Kind;
  readonly name: string;
  readonly fields?: FieldInfo[];
  /** Prototype of decoded structs of this type (carries the wire name). */
  readonly proto?: object;
  readonly elemId?: number;
  readonly keyId?: number;
  readonly len?: number;
  elem?: TypeInfo;
  key?: TypeInfo;
}

const enum F {
  Top,
  Iface,
  Struct,
  Slice,
  Map,
}

/** One composite value under construction. */
interface Frame {
  f: F;
  type: TypeInfo | undefined;
  /** Struct: last field number; slice/array/map: elements still to read. */
  i: number;
  obj: GobStruct | GobValue[] | Map<GobValue, GobValue> | undefined;
  /** Struct: name of the field being read; map: the key read. Interface: registered name. */
  key: GobValue;
  hasKey: boolean;
}

/** Returned by `begin` when the value is a composite whose frame was pushed. */
const PENDING: unique symbol = Symbol('pending');
type Pending = typeof PENDING;

/** Longest string built in JS rather than by Buffer's UTF-8 decoder. */
const SHORT_STRING = 12;
/** Input buffers larger than this shrink again when mostly empty. */
const SHRINK_ABOVE = 1024 * 1024;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
/** Go exported identifier: the first character is an upper-case letter. */
const EXPORTED_NAME = /^\p{Lu}[\p{L}\p{Nd}_]*$/u;

function structProto(name: string): object {
  const proto = Object.create(null) as Record<symbol, unknown>;
  Object.defineProperty(proto, GOB_TYPE_NAME, { value: name, enumerable: false });
  return proto;
}

function builtin(id: number, kind: Kind, name: string): TypeInfo {
  return { id, kind, name };
}

function builtinStruct(id: number, name: string, fields: Array<[string, number]>): TypeInfo {
  return { id, kind: Kind.Struct, name, proto: structProto(name), fields: fields.map(([n, i]) => ({ name: n, id: i })) };
}

const BUILTINS: ReadonlyMap<number, TypeInfo> = new Map<number, TypeInfo>([
  [BuiltinId.Bool, builtin(BuiltinId.Bool, Kind.Bool, 'bool')],
  [BuiltinId.Int, builtin(BuiltinId.Int, Kind.Int, 'int')],
  [BuiltinId.Uint, builtin(BuiltinId.Uint, Kind.Uint, 'uint')],
  [BuiltinId.Float, builtin(BuiltinId.Float, Kind.Float, 'float')],
  [BuiltinId.Bytes, builtin(BuiltinId.Bytes, Kind.Bytes, 'bytes')],
  [BuiltinId.String, builtin(BuiltinId.String, Kind.String, 'string')],
  [BuiltinId.Complex, builtin(BuiltinId.Complex, Kind.Complex, 'complex')],
  [BuiltinId.Interface, builtin(BuiltinId.Interface, Kind.Interface, 'interface')],
  [
    BuiltinId.WireType,
    builtinStruct(BuiltinId.WireType, 'wireType', [
      ['ArrayT', BuiltinId.ArrayType],
      ['SliceT', BuiltinId.SliceType],
      ['StructT', BuiltinId.StructType],
      ['MapT', BuiltinId.MapType],
    ]),
  ],
  [
    BuiltinId.ArrayType,
    builtinStruct(BuiltinId.ArrayType, 'arrayType', [
      ['CommonType', BuiltinId.CommonType],
      ['Elem', BuiltinId.Int],
      ['Len', BuiltinId.Int],
    ]),
  ],
  [
    BuiltinId.CommonType,
    builtinStruct(BuiltinId.CommonType, 'CommonType', [
      ['Name', BuiltinId.String],
      ['Id', BuiltinId.Int],
    ]),
  ],
  [
    BuiltinId.SliceType,
    builtinStruct(BuiltinId.SliceType, 'sliceType', [
      ['CommonType', BuiltinId.CommonType],
      ['Elem', BuiltinId.Int],
    ]),
  ],
  [
    BuiltinId.StructType,
    builtinStruct(BuiltinId.StructType, 'structType', [
      ['CommonType', BuiltinId.CommonType],
      ['Field', BuiltinId.FieldTypeSlice],
    ]),
  ],
  [
    BuiltinId.FieldType,
    builtinStruct(BuiltinId.FieldType, 'fieldType', [
      ['Name', BuiltinId.String],
      ['Id', BuiltinId.Int],
    ]),
  ],
  [
    BuiltinId.FieldTypeSlice,
    { id: BuiltinId.FieldTypeSlice, kind: Kind.Slice, name: '[]*fieldType', elemId: BuiltinId.FieldType },
  ],
  [
    BuiltinId.MapType,
    builtinStruct(BuiltinId.MapType, 'mapType', [
      ['CommonType', BuiltinId.CommonType],
      ['Key', BuiltinId.Int],
      ['Elem', BuiltinId.Int],
    ]),
  ],
]);

/**
 * Decodes the gob values of one stream, in order. Feed bytes as they arrive with {@link feed}, then call
 * {@link next} until it returns `undefined` (no complete value yet). A nil interface decodes as `null`, so
 * `undefined` always means "not yet". After a {@link GobError} the decoder is dead: every later call
 * throws the same error.
 */
export class GobDecoder {
  private readonly maxMessageBytes: number;
  private readonly maxDepth: number;
  private readonly maxTypes: number;

  private buf: Buffer = Buffer.allocUnsafe(0);
  /** `buf` as a DataView, for reading four bytes at a time. */
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  /** Valid bytes in `buf`. */
  private len = 0;
  /** Read position; bytes before it are consumed. */
  private pos = 0;
  /** End of the current message; `pos === msgEnd` means it is used up. */
  private msgEnd = 0;
  /** Stream offset of `buf[0]`, for error messages. */
  private base = 0;

  private readonly types = new Map<number, TypeInfo>();
  /** Frames of the value being decoded, `frames[0..depth)`; objects are reused to spare the GC. */
  private readonly frames: Frame[] = [];
  private depth = 0;
  private failure: GobError | undefined;

  constructor(options: GobDecoderOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxTypes = options.maxTypes ?? DEFAULT_MAX_TYPES;
  }

  /** Bytes fed but not yet consumed by a decoded value or type definition. */
  get bufferedBytes(): number {
    return this.len - this.pos;
  }

  /** Appends input. The chunk is copied; the caller may reuse it. */
  feed(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    // A complete message is consumed before the next is needed, so a healthy stream never holds much
    // more than one message; anything beyond two is a peer ignoring the limit.
    if (this.len - this.pos + chunk.length > 2 * this.maxMessageBytes + 16) {
      throw this.remember(this.fail(`more than ${2 * this.maxMessageBytes} bytes buffered without a complete value`));
    }
    if (this.len + chunk.length > this.buf.length) {
      const live = this.len - this.pos;
      const need = live + chunk.length;
      // Grow by doubling; give memory back once a big message (a 3 MiB Rollout) has been consumed.
      const size =
        need > this.buf.length
          ? Math.max(need, this.buf.length * 2, 4096)
          : this.buf.length > SHRINK_ABOVE && need * 4 < this.buf.length
            ? Math.max(need * 2, 64 * 1024)
            : 0;
      if (size === 0) {
        this.buf.copy(this.buf, 0, this.pos, this.len);
      } else {
        const next = Buffer.allocUnsafe(size);
        this.buf.copy(next, 0, this.pos, this.len);
        this.buf = next;
        this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
      }
      this.base += this.pos;
      this.msgEnd -= this.pos;
      this.len = live;
      this.pos = 0;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
  }

  /** The next complete top-level value, or `undefined` when more input is needed. */
  next(): GobValue | undefined {
    if (this.failure) throw this.failure;
    try {
      return this.run();
    } catch (e) {
      if (e instanceof GobError) throw this.remember(e);
      // Anything else is a decoder bug; the stream is just as untrustworthy.
      throw this.remember(new GobError(`internal decoder error: ${String(e)}`, this.offset(), { cause: e }));
    }
  }

  // ---- the value machine ----------------------------------------------------------------------

  private run(): GobValue | undefined {
    const frames = this.frames;
    if (this.depth === 0) {
      if (this.pos !== this.msgEnd) throw this.fail('internal: value ended inside a message');
      this.push(F.Top, undefined, undefined, 0);
    }
    for (;;) {
      const fr = frames[this.depth - 1]!;
      let v: GobValue | Pending;
      switch (fr.f) {
        case F.Struct: {
          const delta = this.readCount();
          if (delta === 0) {
            v = fr.obj as GobStruct;
            this.pop(fr);
            break;
          }
          const fields = fr.type!.fields!;
          fr.i += delta;
          if (fr.i >= fields.length) {
            throw this.fail(`field number ${fr.i} out of range for struct ${fr.type!.name || '(anonymous)'} with ${fields.length} fields`);
          }
          const field = fields[fr.i]!;
          const fv = this.begin(field.type ?? this.resolveField(field));
          if (fv !== PENDING) (fr.obj as GobStruct)[field.name] = fv;
          else fr.key = field.name;
          continue;
        }
        case F.Slice: {
          if (fr.i === 0) {
            v = fr.obj as GobValue[];
            this.pop(fr);
            break;
          }
          fr.i--;
          const t = fr.type!;
          const ev = this.begin(t.elem ?? (t.elem = this.lookup(t.elemId!)));
          if (ev !== PENDING) (fr.obj as GobValue[]).push(ev);
          continue;
        }
        case F.Map: {
          const t = fr.type!;
          if (!fr.hasKey) {
            if (fr.i === 0) {
              v = fr.obj as Map<GobValue, GobValue>;
              this.pop(fr);
              break;
            }
            fr.i--;
            const kv = this.begin(t.key ?? (t.key = this.lookup(t.keyId!)));
            if (kv !== PENDING) {
              fr.key = kv;
              fr.hasKey = true;
            }
          } else {
            const ev = this.begin(t.elem ?? (t.elem = this.lookup(t.elemId!)));
            if (ev !== PENDING) {
              (fr.obj as Map<GobValue, GobValue>).set(fr.key, ev);
              fr.hasKey = false;
            }
          }
          continue;
        }
        case F.Top:
        case F.Iface: {
          // Only reached before the concrete type is known.
          const id = this.typeSequence(fr.f === F.Iface);
          if (id < 0) return undefined;
          const t = this.lookup(id);
          if (fr.f === F.Iface) this.readUint(); // byte count of the value; Go ignores it too
          if (t.kind !== Kind.Struct) {
            const delta = this.readCount();
            if (delta !== 0) throw this.fail(`non-zero delta ${delta} before a singleton value of type ${t.name}`);
          }
          v = this.begin(t);
          if (v === PENDING) continue;
          break;
        }
      }
      // A value is complete: store it in its parent, unwinding finished interfaces and the top level.
      for (;;) {
        const parent = frames[this.depth - 1]!;
        if (parent.f === F.Struct) {
          (parent.obj as GobStruct)[parent.key as string] = v;
        } else if (parent.f === F.Slice) {
          (parent.obj as GobValue[]).push(v);
        } else if (parent.f === F.Map) {
          if (parent.hasKey) {
            (parent.obj as Map<GobValue, GobValue>).set(parent.key, v);
            parent.hasKey = false;
          } else {
            parent.key = v;
            parent.hasKey = true;
          }
        } else if (parent.f === F.Iface) {
          v = new GobInterface(parent.key as string, v);
          this.pop(parent);
          continue;
        } else {
          this.pop(parent);
          if (this.pos !== this.msgEnd) {
            throw this.fail(`${this.msgEnd - this.pos} bytes left in the message after a complete value`);
          }
          return v;
        }
        break;
      }
    }
  }

  /** Reads a scalar value, or pushes the frame of a composite one. */
  private begin(t: TypeInfo): GobValue | Pending {
    switch (t.kind) {
      case Kind.Bool:
        return this.readUint() !== 0;
      case Kind.Int:
        return this.readInt();
      case Kind.Uint:
        return this.readUint();
      case Kind.Float:
        return this.readFloat();
      case Kind.String:
        return this.readString();
      case Kind.Bytes:
        return this.readBytes();
      case Kind.Complex: {
        const re = this.readFloat();
        return new GobComplex(re, this.readFloat());
      }
      case Kind.Opaque: {
        const bytes = this.readBytes();
        // A pointer field (`Deadline *time.Time` in Argo master's WeightUpdateDeadlineResponse) reaches
        // the wire with an empty type name; it is still Go's time form.
        if (t.name === 'Time' || t.name === 'MicroTime' || t.name === '') {
          const time = parseGoTime(bytes);
          if (time) return time;
        }
        return new GobOpaque(t.name, bytes);
      }
      case Kind.Struct:
        this.push(F.Struct, t, Object.create(t.proto!) as GobStruct, -1);
        return PENDING;
      case Kind.Slice:
        this.push(F.Slice, t, [], this.readCount());
        return PENDING;
      case Kind.Array: {
        const n = this.readCount();
        if (n !== t.len) throw this.fail(`array of type ${t.name || '(anonymous)'} has ${n} elements, its type says ${t.len}`);
        this.push(F.Slice, t, [], n);
        return PENDING;
      }
      case Kind.Map:
        this.push(F.Map, t, new Map(), this.readCount());
        return PENDING;
      case Kind.Interface: {
        const name = this.readString();
        if (name === '') return null;
        this.push(F.Iface, undefined, undefined, 0).key = name;
        return PENDING;
      }
    }
  }

  private push(f: F, type: TypeInfo | undefined, obj: Frame['obj'], i: number): Frame {
    if (this.depth > this.maxDepth) throw this.fail(`value nested deeper than ${this.maxDepth} levels`);
    let fr = this.frames[this.depth];
    if (fr === undefined) {
      fr = { f, type, i, obj, key: null, hasKey: false };
      this.frames.push(fr);
    } else {
      fr.f = f;
      fr.type = type;
      fr.i = i;
      fr.obj = obj;
      fr.hasKey = false;
    }
    this.depth++;
    return fr;
  }

  private pop(fr: Frame): void {
    fr.obj = undefined;
    fr.key = null;
    this.depth--;
  }

  /**
   * Go's decodeTypeSequence: reads type definitions until a value's type id appears. Returns -1 when
   * the next message has not fully arrived (nothing of it consumed).
   */
  private typeSequence(isInterface: boolean): number {
    for (;;) {
      if (this.pos === this.msgEnd && !this.nextMessage()) return -1;
      const id = this.readInt();
      if (typeof id !== 'number' || id > 0x7fffffff || id < -0x7fffffff) throw this.fail(`type id ${id} out of range`);
      if (id >= 0) return id;
      this.defineType(-id);
      if (this.pos < this.msgEnd) {
        if (!isInterface) throw this.fail('extra data in the message after a type definition');
        this.readUint(); // count of the delimited value that follows (Go skips it)
      }
    }
  }

  /** Starts the next message if its length prefix and all its bytes have arrived. */
  private nextMessage(): boolean {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.len) return false;
    const b = buf[p++]!;
    let n: number;
    if (b < 0x80) {
      n = b;
    } else {
      const width = 256 - b;
      if (width > 8) throw this.fail(`invalid message length prefix byte 0x${b.toString(16)}`);
      if (p + width > this.len) return false;
      n = 0;
      for (let k = 0; k < width; k++) n = n * 256 + buf[p + k]!;
      p += width;
    }
    if (n > this.maxMessageBytes) {
      throw this.fail(
        `message of ${n} bytes exceeds the limit of ${this.maxMessageBytes} bytes (no Rollout the Kubernetes API can store is that large; the stream is closed)`,
      );
    }
    if (n === 0) throw this.fail('empty message');
    if (this.len - p < n) return false;
    this.pos = p;
    this.msgEnd = p + n;
    return true;
  }

  // ---- type definitions -----------------------------------------------------------------------

  private lookup(id: number): TypeInfo {
    const t = this.types.get(id) ?? BUILTINS.get(id);
    if (!t) throw this.fail(`unknown type id ${id}`);
    return t;
  }

  private resolveField(field: FieldInfo): TypeInfo {
    return (field.type = this.lookup(field.id));
  }

  private defineType(id: number): void {
    if (id < FIRST_USER_ID || this.types.has(id)) throw this.fail(`duplicate or reserved type id ${id} defined`);
    if (this.types.size >= this.maxTypes) throw this.fail(`more than ${this.maxTypes} type definitions on one stream`);
    this.types.set(id, this.readWireType(id));
  }

  /** Hand-parses a `wireType` struct (small and fixed; see doc.go). Exactly one field must be set. */
  private readWireType(id: number): TypeInfo {
    let result: TypeInfo | undefined;
    this.readStruct('wireType', 7, (field) => {
      if (result) throw this.fail(`type definition ${id} sets more than one kind`);
      switch (field) {
        case WireTypeField.ArrayT: {
          let name = '';
          let elemId = 0;
          let len = -1;
          this.readStruct('arrayType', 3, (f) => {
            if (f === 0) name = this.readCommonType();
            else if (f === 1) elemId = this.readTypeRef();
            else len = this.readSmallInt('array length');
          });
          if (len < 0) throw this.fail(`array type ${id} has no valid length`);
          result = { id, kind: Kind.Array, name, elemId: this.requireRef(elemId, id), len };
          break;
        }
        case WireTypeField.SliceT: {
          let name = '';
          let elemId = 0;
          this.readStruct('sliceType', 2, (f) => {
            if (f === 0) name = this.readCommonType();
            else elemId = this.readTypeRef();
          });
          result = { id, kind: Kind.Slice, name, elemId: this.requireRef(elemId, id) };
          break;
        }
        case WireTypeField.StructT: {
          let name = '';
          const fields: FieldInfo[] = [];
          this.readStruct('structType', 2, (f) => {
            if (f === 0) {
              name = this.readCommonType();
              return;
            }
            const count = this.readCount();
            for (let k = 0; k < count; k++) {
              let fname = '';
              let fid = 0;
              this.readStruct('fieldType', 2, (ff) => {
                if (ff === 0) fname = this.readString();
                else fid = this.readTypeRef();
              });
              if (!EXPORTED_NAME.test(fname)) throw this.fail(`struct type ${id} has a field named ${JSON.stringify(fname)}, not an exported Go name`);
              fields.push({ name: fname, id: this.requireRef(fid, id) });
            }
          });
          result = { id, kind: Kind.Struct, name, fields, proto: structProto(name) };
          break;
        }
        case WireTypeField.MapT: {
          let name = '';
          let keyId = 0;
          let elemId = 0;
          this.readStruct('mapType', 3, (f) => {
            if (f === 0) name = this.readCommonType();
            else if (f === 1) keyId = this.readTypeRef();
            else elemId = this.readTypeRef();
          });
          result = { id, kind: Kind.Map, name, keyId: this.requireRef(keyId, id), elemId: this.requireRef(elemId, id) };
          break;
        }
        default: {
          // GobEncoderT, BinaryMarshalerT, TextMarshalerT: only a CommonType.
          let name = '';
          this.readStruct('gobEncoderType', 1, () => {
            name = this.readCommonType();
          });
          result = { id, kind: Kind.Opaque, name };
        }
      }
    });
    if (!result) throw this.fail(`type definition ${id} is empty`);
    return result;
  }

  /** CommonType {Name string; Id int}: returns the name; the id is informational. */
  private readCommonType(): string {
    let name = '';
    this.readStruct('CommonType', 2, (f) => {
      if (f === 0) name = this.readString();
      else this.readInt();
    });
    return name;
  }

  /** Reads struct field deltas up to the terminator, calling `visit` with each field number. */
  private readStruct(what: string, nfields: number, visit: (field: number) => void): void {
    let field = -1;
    for (;;) {
      const delta = this.readCount();
      if (delta === 0) return;
      field += delta;
      if (field >= nfields) throw this.fail(`field number ${field} out of range in ${what}`);
      visit(field);
    }
  }

  private readTypeRef(): number {
    return this.readSmallInt('type id');
  }

  private requireRef(ref: number, definedId: number): number {
    if (ref <= 0) throw this.fail(`type definition ${definedId} refers to invalid type id ${ref}`);
    return ref;
  }

  // ---- primitives (all within the current message) ---------------------------------------------

  private readUint(): number | bigint {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.msgEnd) throw this.fail('unexpected end of message');
    const b = buf[p++]!;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    const n = 256 - b;
    if (n > 8) throw this.fail(`invalid unsigned integer prefix byte 0x${b.toString(16)}`);
    if (p + n > this.msgEnd) throw this.fail(`unsigned integer of ${n} bytes runs past the end of the message`);
    this.pos = p + n;
    if (n <= 6) {
      let x = 0;
      for (let k = 0; k < n; k++) x = x * 256 + buf[p + k]!;
      return x;
    }
    let x = 0n;
    for (let k = 0; k < n; k++) x = (x << 8n) | BigInt(buf[p + k]!);
    return x <= MAX_SAFE ? Number(x) : x;
  }

  private readInt(): number | bigint {
    const u = this.readUint();
    if (typeof u === 'number') return u % 2 === 1 ? -(u - 1) / 2 - 1 : u / 2;
    const v = (u & 1n) === 1n ? ~(u >> 1n) : u >> 1n;
    return v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v;
  }

  /** An unsigned count (lengths, deltas, element counts) that must fit a JS number. */
  private readCount(): number {
    const u = this.readUint();
    if (typeof u !== 'number') throw this.fail(`count ${u} is too large`);
    return u;
  }

  private readSmallInt(what: string): number {
    const v = this.readInt();
    if (typeof v !== 'number' || v > 0x7fffffff || v < -0x7fffffff) throw this.fail(`${what} ${v} out of range`);
    return v;
  }

  /** A byte length that must fit in what is left of the message. */
  private readLength(what: string): number {
    const n = this.readUint();
    if (typeof n !== 'number' || n > this.msgEnd - this.pos) {
      throw this.fail(`${what} of ${n} bytes runs past the end of the message`);
    }
    return n;
  }

  private readString(): string {
    const n = this.readLength('string');
    const buf = this.buf;
    const p = this.pos;
    this.pos = p + n;
    // Short ASCII names are cheaper to build in JS than with a native call; past about a dozen bytes
    // the native decoder wins (and concatenation would start making cons strings that need flattening).
    if (n <= SHORT_STRING) {
      let s = '';
      for (let k = p; k < p + n; k++) {
        const c = buf[k]!;
        if (c >= 0x80) return buf.toString('utf8', p, p + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    if (n <= STRING_CACHE_MAX_BYTES) return STRING_CACHE.get(buf, this.view, p, n);
    return buf.toString('utf8', p, p + n);
  }

  private readBytes(): Uint8Array {
    const n = this.readLength('byte slice');
    const buf = this.buf;
    const p = this.pos;
    this.pos = p + n;
    const out = new Uint8Array(n);
    if (n <= 64) for (let k = 0; k < n; k++) out[k] = buf[p + k]!;
    else out.set(buf.subarray(p, p + n));
    return out;
  }

  /** Go sends math.Float64bits byte-reversed, as an unsigned integer. */
  private readFloat(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p >= this.msgEnd) throw this.fail('unexpected end of message');
    const b = buf[p++]!;
    let n = 1;
    let from = p - 1;
    if (b >= 0x80) {
      n = 256 - b;
      if (n > 8) throw this.fail(`invalid float prefix byte 0x${b.toString(16)}`);
      if (p + n > this.msgEnd) throw this.fail(`float of ${n} bytes runs past the end of the message`);
      from = p;
      p += n;
    }
    this.pos = p;
    // The n big-endian bytes of the integer are the high bytes of the little-endian float.
    const scratch = FLOAT_SCRATCH;
    scratch.fill(0);
    for (let k = 0; k < n; k++) scratch[8 - n + k] = buf[from + k]!;
    return FLOAT_VIEW.getFloat64(0, true);
  }

  // ---- errors -----------------------------------------------------------------------------------

  private offset(): number {
    return this.base + this.pos;
  }

  private fail(message: string): GobError {
    return new GobError(message, this.offset());
  }

  private remember(e: GobError): GobError {
    this.failure = e;
    this.depth = 0;
    this.frames.length = 0;
    return e;
  }
}

const FLOAT_SCRATCH = new Uint8Array(8);
const FLOAT_VIEW = new DataView(FLOAT_SCRATCH.buffer);

const STRING_CACHE_SLOTS = 4096;
/** Longest string remembered; longer ones are rarely repeated names and would bloat the cache. */
const STRING_CACHE_MAX_BYTES = 96;

/**
 * Recently decoded strings, by their bytes. Argo sends the same Rollout call after call (SetWeight and
 * VerifyWeight on every reconcile), so most strings of a call were seen before. A hit skips the native
 * UTF-8 decode (one native call per string is most of what decoding a Rollout costs) and hands back the
 * same string object, whose hash and internalised property key V8 then reuses. A hit is checked byte for
 * byte, so a collision only costs a decode. A string is admitted on its second sighting, so a stream of
 * distinct strings (a big, new Rollout) pays little more than the decode. One table for the process,
 * bounded: slots × max bytes.
 */
class StringCache {
  private readonly arena = new Uint8Array(STRING_CACHE_SLOTS * STRING_CACHE_MAX_BYTES);
  private readonly arenaView = new DataView(this.arena.buffer);
  /** Byte length of each slot's string; 0 marks an empty slot (cached strings are longer). */
  private readonly lengths = new Int32Array(STRING_CACHE_SLOTS);
  /** Hash of each slot's string: rejects almost every mismatch before comparing bytes. */
  private readonly hashes = new Int32Array(STRING_CACHE_SLOTS);
  /** Hash of the last string missed whose first slot is this one, not admitted yet. */
  private readonly seen = new Int32Array(STRING_CACHE_SLOTS);
  private readonly strings: string[] = new Array<string>(STRING_CACHE_SLOTS).fill('');
  /** Which of two full candidate slots the next admission replaces. */
  private victim = 0;

  /** The string of `buf[p, p+n)`, with SHORT_STRING < n <= STRING_CACHE_MAX_BYTES. */
  get(buf: Buffer, view: DataView, p: number, n: number): string {
    const q = p + n;
    // Every byte counts: names often differ in one digit anywhere (env-0042, value-007-of-...).
    let h = n;
    let k = p;
    for (; k < q - 8; k += 8) {
      h = Math.imul(h ^ view.getUint32(k, true), 0x9e3779b1) ^ Math.imul(view.getUint32(k + 4, true), 0x85ebca6b) ^ (h >>> 15);
    }
    h = Math.imul(h ^ view.getUint32(q - 8, true), 0x9e3779b1) ^ (h >>> 15);
    h = Math.imul(h ^ view.getUint32(q - 4, true), 0x85ebca6b) ^ (h >>> 13);
    // Two candidate slots per string, so two hot strings that share one do not evict each other.
    const a = (h ^ (h >>> 16)) & (STRING_CACHE_SLOTS - 1);
    const b = (a ^ (1 + ((h >>> 20) & (STRING_CACHE_SLOTS - 2)))) & (STRING_CACHE_SLOTS - 1);
    if (this.matches(a, h, view, p, n)) return this.strings[a]!;
    if (this.matches(b, h, view, p, n)) return this.strings[b]!;
    const s = buf.toString('utf8', p, q);
    if (this.seen[a] !== h) {
      this.seen[a] = h;
      return s;
    }
    const slot = this.lengths[a] === 0 ? a : this.lengths[b] === 0 ? b : (this.victim ^= 1) === 0 ? a : b;
    // Copied in JS: a native copy call would cost more than these few words.
    const arena = this.arenaView;
    const base = slot * STRING_CACHE_MAX_BYTES;
    for (k = 0; k < n - 4; k += 4) arena.setUint32(base + k, view.getUint32(p + k, true), true);
    arena.setUint32(base + n - 4, view.getUint32(q - 4, true), true);
    this.lengths[slot] = n;
    this.hashes[slot] = h;
    this.strings[slot] = s;
    return s;
  }

  private matches(slot: number, h: number, view: DataView, p: number, n: number): boolean {
    if (this.lengths[slot] !== n || this.hashes[slot] !== h) return false;
    const arena = this.arenaView;
    const base = slot * STRING_CACHE_MAX_BYTES;
    let k = 0;
    while (
      k < n - 8 &&
      view.getUint32(p + k, true) === arena.getUint32(base + k, true) &&
      view.getUint32(p + k + 4, true) === arena.getUint32(base + k + 4, true)
    ) {
      k += 8;
    }
    // The last eight bytes overlap the loop's when n is not a multiple of eight.
    return (
      k >= n - 8 &&
      view.getUint32(p + n - 8, true) === arena.getUint32(base + n - 8, true) &&
      view.getUint32(p + n - 4, true) === arena.getUint32(base + n - 4, true)
    );
  }
}

const STRING_CACHE = new StringCache();
