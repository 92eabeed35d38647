// Go's time.Time binary form (time.Time.MarshalBinary, also its GobEncode), which is what a
// metav1.Time carries through gob:
//   [0] version 1, or 2 when the zone offset has a seconds part
//   [1..8]  seconds since 0001-01-01T00:00:00Z, int64 BE
//   [9..12] nanoseconds, int32 BE
//   [13..14] zone offset in minutes east of UTC, int16 BE; -1 means UTC
//   [15] (version 2 only) extra offset seconds, int8 (read back unsigned by Go)

import { GO_TO_UNIX_SECONDS } from './wire.js';

/**
 * Formatted seconds: a Rollout carries the same few timestamps (creation, conditions) call after call, and
 * formatting a Date is most of what converting one costs. Emptied when full, so it stays small.
 */
const RFC3339_CACHE = new Map<number, string>();
const RFC3339_CACHE_MAX = 1024;

export class GobTime {
  constructor(
    /** Seconds since 1970-01-01T00:00:00Z. */
    readonly unixSeconds: number,
    /** 0..999999999 */
    readonly nanoseconds: number,
    /** Zone offset east of UTC in seconds; null for UTC. */
    readonly offsetSeconds: number | null,
  ) {}

  toDate(): Date {
    return new Date(this.unixSeconds * 1000 + Math.floor(this.nanoseconds / 1e6));
  }

  /** Whole seconds in UTC, the way metav1.Time marshals to JSON (`2024-01-02T03:04:05Z`). */
  toRFC3339(): string {
    let text = RFC3339_CACHE.get(this.unixSeconds);
    if (text === undefined) {
      const iso = new Date(this.unixSeconds * 1000).toISOString();
      // `YYYY-MM-DDTHH:mm:ss.sssZ` for years 0..9999 (every real timestamp); others have a signed year.
      text = iso.length === 24 ? iso.slice(0, 19) + 'Z' : iso.replace(/\.\d{3}Z$/, 'Z');
      if (RFC3339_CACHE.size >= RFC3339_CACHE_MAX) RFC3339_CACHE.clear();
      RFC3339_CACHE.set(this.unixSeconds, text);
    }
    return text;
  }

  /** Go's RFC3339Nano in the original zone: trailing zeros of the fraction trimmed. */
  toRFC3339Nano(): string {
    const off = this.offsetSeconds ?? 0;
    const local = new Date((this.unixSeconds + off) * 1000).toISOString().slice(0, 19);
    const frac = this.nanoseconds === 0 ? '' : '.' + String(this.nanoseconds).padStart(9, '0').replace(/0+$/, '');
    // Like Go's "Z07:00": any zero offset prints as Z (controllers send Local times that are UTC).
    if (off === 0) return `${local}${frac}Z`;
    const sign = off < 0 ? '-' : '+';
    const abs = Math.abs(off);
    const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
    const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
    return `${local}${frac}${sign}${hh}:${mm}`;
  }
}

/** Parses Go's time binary form; undefined when the bytes are not in that form. */
export function parseGoTime(b: Uint8Array): GobTime | undefined {
  const version = b[0];
  if (!((version === 1 && b.length === 15) || (version === 2 && b.length === 16))) return undefined;
  // int64 seconds as two 32-bit halves: exact while the high half stays within ±2^20 (years ±285 million).
  const hi = ((b[1]! << 24) | (b[2]! << 16) | (b[3]! << 8) | b[4]!) | 0;
  if (hi >= 1 << 20 || hi < -(1 << 20)) return undefined;
  const lo = ((b[5]! << 24) | (b[6]! << 16) | (b[7]! << 8) | b[8]!) >>> 0;
  const unix = hi * 2 ** 32 + lo - GO_TO_UNIX_SECONDS;
  const nanos = ((b[9]! << 24) | (b[10]! << 16) | (b[11]! << 8) | b[12]!) | 0;
  if (nanos < 0 || nanos > 999_999_999) return undefined;
  // Mirrors Go's UnmarshalBinary, which adds the seconds byte unsigned and calls only -60 s UTC.
  let offset = (((b[13]! << 8) | b[14]!) << 16 >> 16) * 60;
  if (version === 2) offset += b[15]!;
  return new GobTime(unix, nanos, offset === -60 ? null : offset);
}

/**
 * Go's time binary form of an instant, in UTC (version 1, zone offset -1): what time.Time.GobEncode writes for
 * a UTC time, and so what a `*metav1.Time` field of a reply carries. `nanoseconds` is 0..999999999.
 */
export function goTimeBinary(unixSeconds: number, nanoseconds: number): Uint8Array {
  if (!Number.isSafeInteger(unixSeconds) || !Number.isInteger(nanoseconds) || nanoseconds < 0 || nanoseconds > 999_999_999) {
    throw new RangeError(`not a time: ${unixSeconds} s ${nanoseconds} ns`);
  }
  const out = new Uint8Array(15);
  const view = new DataView(out.buffer);
  out[0] = 1;
  view.setBigInt64(1, BigInt(unixSeconds) + BigInt(GO_TO_UNIX_SECONDS));
  view.setInt32(9, nanoseconds);
  view.setInt16(13, -1);
  return out;
}
