// A deliberately small yamux *client* for session tests: opens streams (odd ids, like go-plugin's client),
// exposes each as a Duplex, and records what the server sends. It trusts the server's window (tests send
// little) and is no substitute for the Go conformance suite, which uses the real hashicorp/yamux.

import net from 'node:net';
import { Duplex } from 'node:stream';
import { FrameDecoder } from '../../src/goplugin/yamux/decoder.js';
import { encodeHeader, Flag, FrameType, hasFlag, type FrameHeader } from '../../src/goplugin/yamux/frame.js';

export class MiniYamuxClient {
  readonly frames: FrameHeader[] = [];
  readonly closed: Promise<void>;
  private readonly streams = new Map<number, Duplex>();
  private nextId = 1;
  private readonly decoder = new FrameDecoder((h, payload) => this.onFrame(h, payload), 16 * 1024 * 1024);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => this.decoder.push(c));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(address: string): Promise<MiniYamuxClient> {
    const i = address.lastIndexOf(':');
    const socket = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new MiniYamuxClient(socket);
  }

  /** Opens the next stream (WindowUpdate|SYN, like Go's OpenStream). */
  open(): { id: number; stream: Duplex } {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, cb) => {
        this.socket.write(Buffer.concat([encodeHeader(FrameType.Data, 0, id, chunk.length), chunk]), cb);
      },
    });
    this.streams.set(id, stream);
    this.socket.write(encodeHeader(FrameType.WindowUpdate, Flag.SYN, id, 0));
    return { id, stream };
  }

  /** Sends a yamux ping and resolves when the server answers it (a round trip through its frame loop). */
  ping(): Promise<void> {
    const opaque = 0x1234 + this.frames.length;
    this.socket.write(encodeHeader(FrameType.Ping, Flag.SYN, 0, opaque));
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.frames.some((f) => f.type === FrameType.Ping && hasFlag(f.flags, Flag.ACK) && f.length === opaque)) resolve();
        else if (this.socket.destroyed) reject(new Error('connection closed before the ping was answered'));
        else setImmediate(check);
      };
      check();
    });
  }

  /** Half-closes a stream (WindowUpdate|FIN, as Go does). */
  finish(id: number): void {
    this.socket.write(encodeHeader(FrameType.WindowUpdate, Flag.FIN, id, 0));
  }

  framesFor(id: number): FrameHeader[] {
    return this.frames.filter((f) => f.streamId === id);
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(h: FrameHeader, payload: Buffer): void {
    this.frames.push(h);
    const s = this.streams.get(h.streamId);
    if (h.type === FrameType.Ping && hasFlag(h.flags, Flag.SYN)) {
      this.socket.write(encodeHeader(FrameType.Ping, Flag.ACK, 0, h.length));
    }
    if (!s) return;
    if (h.type === FrameType.Data && payload.length > 0) {
      s.push(payload);
      // Return the credit at once so a long test never stalls the server.
      this.socket.write(encodeHeader(FrameType.WindowUpdate, 0, h.streamId, payload.length));
    }
    if (hasFlag(h.flags, Flag.FIN) || hasFlag(h.flags, Flag.RST)) s.push(null);
  }
}
