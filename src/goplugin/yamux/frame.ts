// The yamux wire format (hashicorp/yamux v0.1.2, spec.md and const.go): a 12-byte big-endian header,
// optionally followed by a Data payload. Pure code: no sockets, no timers.
//
//   offset 0  version  (u8)   always 0
//   offset 1  type     (u8)   Data | WindowUpdate | Ping | GoAway
//   offset 2  flags    (u16)  SYN | ACK | FIN | RST
//   offset 4  streamId (u32)  0 = the session itself
//   offset 8  length   (u32)  Data: payload bytes; WindowUpdate: window increment; Ping: opaque; GoAway: code

export const HEADER_LENGTH = 12;

/** "At the current time, the field is always set to 0, to indicate the initial version." */
export const PROTOCOL_VERSION = 0;

/**
 * "Each new stream starts with a 256KB window" (initialStreamWindow). go-plugin uses yamux's DefaultConfig,
 * so the Go side never grants more than this either (MaxStreamWindowSize = 256 KiB).
 */
export const INITIAL_STREAM_WINDOW = 256 * 1024;

/** Largest value of a u32 header field. */
export const MAX_U32 = 0xffff_ffff;

export enum FrameType {
  /** "Used to transmit data. May transmit zero length payloads depending on the flags." */
  Data = 0,
  /** "Used to updated the senders receive window size." The length is the increment. */
  WindowUpdate = 1,
  /** "Used to measure RTT. It can also be used to heart-beat and do keep-alives over TCP." */
  Ping = 2,
  /** "Used to close a session." The length is the error code. */
  GoAway = 3,
}

export enum Flag {
  /** "Signals the start of a new stream. May be sent with a data or window update message." */
  SYN = 0x1,
  /** "Acknowledges the start of a new stream. May be sent with a data or window update message." */
  ACK = 0x2,
  /** "Performs a half-close of a stream. May be sent with a data message or window update." */
  FIN = 0x4,
  /** "Reset a stream immediately. May be sent with a data or window update message." */
  RST = 0x8,
}

export enum GoAwayCode {
  /** "0x0 Normal termination" */
  Normal = 0,
  /** "0x1 Protocol error" */
  ProtocolError = 1,
  /** "0x2 Internal error" */
  InternalError = 2,
}

export interface FrameHeader {
  version: number;
  type: FrameType;
  flags: number;
  streamId: number;
  length: number;
}

export function hasFlag(flags: number, flag: Flag): boolean {
  return (flags & flag) === flag;
}

/** Writes the header into `target` at `offset` (a fresh 12-byte buffer when omitted) and returns `target`. */
export function encodeHeader(
  type: FrameType,
  flags: number,
  streamId: number,
  length: number,
  target: Buffer = Buffer.allocUnsafe(HEADER_LENGTH),
  offset = 0,
): Buffer {
  target[offset] = PROTOCOL_VERSION;
  target[offset + 1] = type;
  target.writeUInt16BE(flags, offset + 2);
  target.writeUInt32BE(streamId, offset + 4);
  target.writeUInt32BE(length, offset + 8);
  return target;
}

/** Reads a header without validating it; `buf` must hold 12 bytes from `offset`. */
export function decodeHeader(buf: Buffer, offset = 0): FrameHeader {
  return {
    version: buf[offset]!,
    type: buf[offset + 1]!,
    flags: buf.readUInt16BE(offset + 2),
    streamId: buf.readUInt32BE(offset + 4),
    length: buf.readUInt32BE(offset + 8),
  };
}

const TYPE_NAMES = ['Data', 'WindowUpdate', 'Ping', 'GoAway'];
const FLAG_NAMES: ReadonlyArray<[Flag, string]> = [
  [Flag.SYN, 'SYN'],
  [Flag.ACK, 'ACK'],
  [Flag.FIN, 'FIN'],
  [Flag.RST, 'RST'],
];

/** For logs and error messages: `WindowUpdate SYN|ACK stream=7 length=0`. */
export function stringifyHeader(h: FrameHeader): string {
  const type = TYPE_NAMES[h.type] ?? `type(${h.type})`;
  const flags = FLAG_NAMES.filter(([bit]) => hasFlag(h.flags, bit)).map(([, name]) => name);
  const unknown = h.flags & ~0xf;
  if (unknown !== 0) flags.push(`0x${unknown.toString(16)}`);
  const version = h.version === PROTOCOL_VERSION ? '' : ` version=${h.version}`;
  return `${type}${flags.length > 0 ? ' ' + flags.join('|') : ''} stream=${h.streamId} length=${h.length}${version}`;
}
