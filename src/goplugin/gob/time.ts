// Go's time.Time binary form (time.Time.MarshalBinary, also its GobEncode), which is what a
// metav1.Time carries through gob:
//   [0] version 1, or 2 when the zone offset has a seconds part
//   [1..8]  seconds since 0001-01-01T00:00:00Z, int64 BE
//   [9..12] nanoseconds, int32 BE
//   [13..14] zone offset in minutes east of UTC, int16 BE; -1 means UTC
//   [15] (version 2 only) extra offset seconds, int8 (read back unsigned by Go)

import { GO_TO_UNIX_SECONDS } from './wire.js';

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
    return new Date(this.unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
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
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const goSeconds = dv.getBigInt64(1);
  const unix = goSeconds - BigInt(GO_TO_UNIX_SECONDS);
  if (unix > BigInt(Number.MAX_SAFE_INTEGER) || unix < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  const nanos = dv.getInt32(9);
  if (nanos < 0 || nanos > 999_999_999) return undefined;
  // Mirrors Go's UnmarshalBinary, which adds the seconds byte unsigned and calls only -60 s UTC.
  let offset = dv.getInt16(13) * 60;
  if (version === 2) offset += dv.getUint8(15);
  return new GobTime(Number(unix), nanos, offset === -60 ? null : offset);
}
