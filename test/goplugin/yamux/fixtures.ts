// Test fixtures for the yamux server: an in-memory socket pair (so tests choose exactly how bytes are
// chunked), a raw client that speaks frames by hand, and the payload pattern shared with the Go peer.

import { Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { FrameDecoder } from '../../../src/goplugin/yamux/decoder.js';
import { encodeHeader, FrameType, HEADER_LENGTH, type FrameHeader } from '../../../src/goplugin/yamux/frame.js';

/** One end of an in-memory byte pipe; what one end writes, the other reads, in the same chunks. */
class PipeEnd extends Duplex {
  peer!: PipeEnd;

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.peer.readableEnded && !this.peer.destroyed) this.peer.push(null);
    callback(error);
  }
}

export function duplexPair(): [PipeEnd, PipeEnd] {
  const a = new PipeEnd({ allowHalfOpen: false });
  const b = new PipeEnd({ allowHalfOpen: false });
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * The server's socket when the peer stops reading: writes are accepted but not completed until
 * `release()`, so they pile up in `writableLength`; `feed()` plays incoming bytes.
 */
export class StuckSocket extends Duplex {
  readonly written: Buffer[] = [];
  private held: Array<() => void> = [];

  constructor() {
    super({ writableHighWaterMark: 64 });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written.push(chunk);
    this.held.push(() => callback());
  }

  feed(bytes: Buffer): void {
    this.push(bytes);
  }

  release(): void {
    while (this.held.length > 0) this.held.shift()!();
  }
}

export interface Frame {
  header: FrameHeader;
  payload: Buffer;
}

/** The client side of a session under test: writes raw bytes, records every byte the server sends. */
export class RawPeer {
  readonly chunks: Buffer[] = [];
  ended = false;

  constructor(readonly end: Duplex) {
    end.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    end.on('end', () => {
      this.ended = true;
    });
    end.on('error', () => {});
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  frames(): Frame[] {
    const out: Frame[] = [];
    new FrameDecoder((header, payload) => out.push({ header, payload: Buffer.from(payload) }), 0xffff_ffff).push(this.received);
    return out;
  }

  clear(): void {
    this.chunks.length = 0;
  }

  send(...parts: Buffer[]): void {
    for (const part of parts) this.end.write(part);
  }
}

export function frame(type: FrameType, flags: number, streamId: number, lengthOrPayload: number | Buffer = 0): Buffer {
  if (typeof lengthOrPayload === 'number') return encodeHeader(type, flags, streamId, lengthOrPayload);
  const out = Buffer.alloc(HEADER_LENGTH + lengthOrPayload.length);
  encodeHeader(type, flags, streamId, lengthOrPayload.length, out);
  lengthOrPayload.copy(out, HEADER_LENGTH);
  return out;
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
}

/** Lets queued I/O callbacks run (in-memory pipes deliver within a tick or two). */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await tick();
}

/** Polls `condition` until it holds; the test's own timeout bounds the wait. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, i < 20 ? 1 : 10));
    if (i > 100_000) throw new Error(`gave up waiting for ${what}`);
  }
}

/** The byte pattern the Go peer also generates (gopeer/main.go `payload`). */
export function pattern(seed: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}

export { prng } from '../../support/prng.js';
