// Push parser for the yamux byte stream: frames may span TCP chunks arbitrarily and many frames may share
// one chunk. Pure code: no sockets, no timers.

import { FrameTooLargeError, InvalidFrameTypeError, InvalidVersionError } from './errors.js';
import { decodeHeader, FrameType, HEADER_LENGTH, INITIAL_STREAM_WINDOW, PROTOCOL_VERSION, type FrameHeader } from './frame.js';

export type FrameHandler = (header: FrameHeader, payload: Buffer) => void;

const EMPTY = Buffer.alloc(0);

/**
 * Push parser: `push(chunk)` calls `onFrame` for every complete frame, in order, and keeps the partial
 * rest for the next chunk. A header is validated (version, type, declared Data length) as soon as its 12
 * bytes are present, before any payload is buffered, so a peer cannot make us allocate more than
 * `maxDataLength` per frame. Payloads that arrive inside one chunk are handed over as views of that chunk
 * (no copy); a payload split across chunks is assembled once into a buffer of its exact size.
 * Frames other than Data never carry a payload (their length is a value, not a size).
 * Errors thrown by the validation or by `onFrame` propagate out of `push`; the decoder is then unusable.
 */
export class FrameDecoder {
  private readonly headerBuf = Buffer.allocUnsafe(HEADER_LENGTH);
  private headerFill = 0;
  private header: FrameHeader | undefined;
  private payload: Buffer | undefined;
  private payloadFill = 0;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly maxDataLength: number = INITIAL_STREAM_WINDOW,
  ) {}

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.headerFill + this.payloadFill;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      let header = this.header;
      if (header === undefined) {
        if (this.headerFill === 0 && chunk.length - off >= HEADER_LENGTH) {
          header = decodeHeader(chunk, off);
          off += HEADER_LENGTH;
        } else {
          const n = Math.min(HEADER_LENGTH - this.headerFill, chunk.length - off);
          chunk.copy(this.headerBuf, this.headerFill, off, off + n);
          this.headerFill += n;
          off += n;
          if (this.headerFill < HEADER_LENGTH) return;
          this.headerFill = 0;
          header = decodeHeader(this.headerBuf);
        }
        this.validate(header);
        if (header.type !== FrameType.Data || header.length === 0) {
          this.onFrame(header, EMPTY);
          continue;
        }
        this.header = header;
      }

      const want = header.length;
      if (this.payload === undefined && chunk.length - off >= want) {
        const payload = chunk.subarray(off, off + want);
        off += want;
        this.header = undefined;
        this.onFrame(header, payload);
        continue;
      }
      this.payload ??= Buffer.allocUnsafe(want);
      const n = Math.min(want - this.payloadFill, chunk.length - off);
      chunk.copy(this.payload, this.payloadFill, off, off + n);
      this.payloadFill += n;
      off += n;
      if (this.payloadFill === want) {
        const payload = this.payload;
        this.header = undefined;
        this.payload = undefined;
        this.payloadFill = 0;
        this.onFrame(header, payload);
      }
    }
  }

  private validate(h: FrameHeader): void {
    if (h.version !== PROTOCOL_VERSION) throw new InvalidVersionError(h);
    if (h.type > FrameType.GoAway) throw new InvalidFrameTypeError(h);
    if (h.type === FrameType.Data && h.length > this.maxDataLength) throw new FrameTooLargeError(h, this.maxDataLength);
  }
}
