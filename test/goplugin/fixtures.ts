// Test fixtures for the net/rpc layer: an in-memory duplex pair and a tiny net/rpc client built from the gob
// encoder/decoder (the controller side of one stream).

import { Duplex, PassThrough } from 'node:stream';
import { pino } from 'pino';
import { GobDecoder } from '../../src/goplugin/gob/decoder.js';
import { GobEncoder } from '../../src/goplugin/gob/encoder.js';
import type { GobStruct, GobValue } from '../../src/goplugin/gob/values.js';

export const silentLogger = pino({ level: 'silent' });

export function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  // Node implements Duplex.from({ readable, writable }); @types/node 26 no longer declares that form.
  const from = (pair: { readable: PassThrough; writable: PassThrough }) => Duplex.from(pair as unknown as NodeJS.ReadWriteStream);
  return [from({ readable: bToA, writable: aToB }), from({ readable: aToB, writable: bToA })];
}

export interface RpcReply {
  header: GobStruct;
  body: GobValue;
}

export type Body = { kind: 'bool'; value: boolean } | { kind: 'string'; value: string } | { kind: 'nil' } | { kind: 'raw'; bytes: Buffer };

/** The client half of Go's net/rpc over gob, enough to drive a server in tests. */
export interface TestRpcClientOptions {
  /** Bytes at the start of the stream that are not net/rpc (the broker ack); kept in `prefix`. */
  prefixBytes?: number;
}

export class TestRpcClient {
  readonly enc = new GobEncoder();
  private readonly dec = new GobDecoder();
  prefix = Buffer.alloc(0);
  private pendingHeader: GobStruct | undefined;
  private readonly replies: RpcReply[] = [];
  private waiters: Array<() => void> = [];
  readonly raw: Buffer[] = [];

  constructor(
    private readonly stream: Duplex,
    opts: TestRpcClientOptions = {},
  ) {
    let skip = opts.prefixBytes ?? 0;
    stream.on('data', (chunk: Buffer) => {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length);
        this.prefix = Buffer.concat([this.prefix, chunk.subarray(0, n)]);
        skip -= n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) return;
      }
      this.raw.push(chunk);
      this.dec.feed(chunk);
      for (let v = this.dec.next(); v !== undefined; v = this.dec.next()) {
        if (this.pendingHeader === undefined) this.pendingHeader = v as GobStruct;
        else {
          this.replies.push({ header: this.pendingHeader, body: v });
          this.pendingHeader = undefined;
        }
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  send(serviceMethod: string, seq: number, body: Body, prefix?: Buffer): void {
    const head = this.enc.encodeRequest({ ServiceMethod: serviceMethod, Seq: seq });
    let b: Buffer;
    switch (body.kind) {
      case 'bool':
        b = this.enc.encodeBool(body.value);
        break;
      case 'string':
        b = this.enc.encodeString(body.value);
        break;
      case 'nil':
        b = this.enc.encodeNilInterface();
        break;
      case 'raw':
        b = body.bytes;
        break;
    }
    this.stream.write(prefix ? Buffer.concat([prefix, head, b]) : Buffer.concat([head, b]));
  }

  writeRaw(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  /** Waits until `n` replies have arrived in total and returns them all, in arrival order. */
  async waitForReplies(n: number): Promise<RpcReply[]> {
    while (this.replies.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return [...this.replies];
  }
}
