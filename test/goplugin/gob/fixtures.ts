// Test fixtures for the gob tests: hex parsing, feeding strategies, the canonical form the Go generator
// (test/goplugin/gobgen/describe.go) writes for every value, and the vectors it wrote (fixtures/vectors.json).

import { readFileSync } from 'node:fs';
import { GobComplex, GobDecoder, GobInterface, GobOpaque, GobTime, type GobValue } from '../../../src/goplugin/gob/index.js';

/** Hex with spaces, newlines and `"text"` runs (the spec's notation) to bytes. */
export function hex(s: string): Buffer {
  const parts: Buffer[] = [];
  const re = /"([^"]*)"|([0-9a-fA-F]{2})|\s+/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(s)) !== null) {
    last = re.lastIndex;
    if (m[1] !== undefined) parts.push(Buffer.from(m[1], 'utf8'));
    else if (m[2] !== undefined) parts.push(Buffer.from(m[2], 'hex'));
  }
  if (last !== s.length) throw new Error(`bad hex at ${last}: ${s.slice(last, last + 20)}`);
  return Buffer.concat(parts);
}

/** Feeds `chunks` one call at a time and collects every value `next` returns along the way. */
export function decodeChunks(chunks: Uint8Array[], dec = new GobDecoder()): GobValue[] {
  const out: GobValue[] = [];
  for (const c of chunks) {
    dec.feed(c);
    for (let v = dec.next(); v !== undefined; v = dec.next()) out.push(v);
  }
  return out;
}

export function whole(b: Uint8Array): Uint8Array[] {
  return [b];
}

export function byteByByte(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

export function splitAt(b: Uint8Array, k: number): Uint8Array[] {
  return [b.subarray(0, k), b.subarray(k)];
}

/** Deterministic pseudo-random chunk sizes 1..max (xorshift, so failures reproduce). */
export function randomChunks(b: Uint8Array, seed: number, max = 7): Uint8Array[] {
  const out: Uint8Array[] = [];
  let x = seed | 1;
  for (let i = 0; i < b.length; ) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const n = 1 + ((x >>> 0) % max);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

type Canon = null | boolean | number | string | Canon[] | { [k: string]: Canon };

function canonFloat(f: number): Canon {
  if (Number.isNaN(f)) return { $float: 'NaN' };
  if (f === Infinity) return { $float: '+Inf' };
  if (f === -Infinity) return { $float: '-Inf' };
  return f;
}

function sortEntries(entries: Canon[][]): Canon[][] {
  return [...entries].sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : 1));
}

/** A decoded value in describe.go's notation. */
export function canonical(v: GobValue): Canon {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return canonFloat(v);
  if (typeof v === 'bigint') return { $big: String(v) };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Map) return { $map: sortEntries([...v].map(([k, e]) => [canonical(k), canonical(e)])) };
  if (v instanceof GobInterface) return { $iface: v.name, value: canonical(v.value) };
  if (v instanceof GobTime) return { $time: v.toRFC3339Nano() };
  if (v instanceof GobOpaque) return { $opaque: v.typeName, bytes: Buffer.from(v.bytes).toString('base64') };
  if (v instanceof GobComplex) return { $complex: [canonFloat(v.real), canonFloat(v.imag)] };
  const out: { [k: string]: Canon } = {};
  for (const [k, e] of Object.entries(v)) out[k] = canonical(e);
  return out;
}

/** Go's description with map entries re-sorted the way {@link canonical} sorts them. */
export function normaliseGo(c: unknown): Canon {
  if (Array.isArray(c)) return c.map(normaliseGo);
  if (c !== null && typeof c === 'object') {
    const o = c as Record<string, unknown>;
    if ('$map' in o) return { $map: sortEntries((o.$map as unknown[][]).map((e) => e.map(normaliseGo))) };
    const out: { [k: string]: Canon } = {};
    for (const [k, e] of Object.entries(o)) out[k] = normaliseGo(e);
    return out;
  }
  return c as Canon;
}

/** One stream written by Go's encoder (test/goplugin/gobgen `gen`). */
export interface Vector {
  name: string;
  hex: string;
  /** Go's description of each value (describe.go). */
  values: unknown[];
  /** False when a map with several entries makes Go's byte order random. */
  deterministic: boolean;
}

export const vectors: Vector[] = JSON.parse(
  readFileSync(new URL('./fixtures/vectors.json', import.meta.url), 'utf8'),
) as Vector[];

export function vector(name: string): Vector {
  const v = vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
}
