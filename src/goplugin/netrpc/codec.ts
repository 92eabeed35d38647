// Go net/rpc's gob codec, server side, for one stream: requests are a `Request{ServiceMethod, Seq}` header
// value followed by the argument value; responses a `Response{ServiceMethod, Seq, Error}` header followed
// by the reply value. One gob decoder and one gob encoder live as long as the stream, because type
// definitions are sent once per stream and direction (encoding/gob's encoder.go: one type map per Encoder).

import { GobDecoder, type GobDecoderOptions } from '../gob/decoder.js';
import { GobEncoder } from '../gob/encoder.js';
import { isGobStruct, type GobValue } from '../gob/values.js';
import { BadRequestHeaderError } from '../errors.js';
import type { Reply } from './reply.js';

export interface RpcRequest {
  serviceMethod: string;
  /** Echoed verbatim: it is all Go's client matches replies on. */
  seq: number | bigint;
  body: GobValue;
}

interface Header {
  serviceMethod: string;
  seq: number | bigint;
}

function parseHeader(v: GobValue): Header {
  if (!isGobStruct(v)) {
    throw new BadRequestHeaderError('net/rpc: expected a Request{ServiceMethod, Seq} header, got a non-struct value');
  }
  // Zero values are not sent: a missing ServiceMethod is "", a missing Seq is 0 (the first call).
  const sm = v.ServiceMethod ?? '';
  const seq = v.Seq ?? 0;
  if (typeof sm !== 'string') throw new BadRequestHeaderError('net/rpc: Request.ServiceMethod is not a string');
  if ((typeof seq !== 'number' && typeof seq !== 'bigint') || seq < 0) {
    throw new BadRequestHeaderError('net/rpc: Request.Seq is not an unsigned integer');
  }
  return { serviceMethod: sm, seq };
}

export class ServerCodec {
  private readonly decoder: GobDecoder;
  private readonly encoder = new GobEncoder();
  /** A header whose body has not arrived yet. */
  private header: Header | undefined;

  constructor(options?: GobDecoderOptions) {
    this.decoder = new GobDecoder(options);
  }

  /** Feeds stream bytes; returns every request completed by them. Throws GobError / BadRequestHeaderError. */
  feed(chunk: Uint8Array): RpcRequest[] {
    this.decoder.feed(chunk);
    const out: RpcRequest[] = [];
    for (;;) {
      const v = this.decoder.next();
      if (v === undefined) return out;
      if (this.header === undefined) {
        this.header = parseHeader(v);
      } else {
        out.push({ ...this.header, body: v });
        this.header = undefined;
      }
    }
  }

  /** Header + body as one buffer, so the reply is written contiguously and its type definitions in order. */
  encodeResponse(serviceMethod: string, seq: number | bigint, error: string, reply: Reply): Buffer {
    const head = this.encoder.encodeResponse({ ServiceMethod: serviceMethod, Seq: seq, Error: error });
    return Buffer.concat([head, this.encodeBody(reply)]);
  }

  private encodeBody(reply: Reply): Buffer {
    switch (reply.kind) {
      case 'empty':
        return this.encoder.encodeEmptyStruct();
      case 'uint':
        return this.encoder.encodeUint(reply.value);
      case 'string':
        return this.encoder.encodeString(reply.value);
      case 'rpcError':
        return this.encoder.encodeRpcError(reply.errorString);
      case 'verifyWeight':
        return this.encoder.encodeVerifyWeightResponse(reply.verified, reply.errorString);
      case 'weightUpdateDeadline':
        return this.encoder.encodeWeightUpdateDeadlineResponse(reply.errorString);
      case 'measurement':
        return this.encoder.encodeMeasurement(reply.value);
      case 'stringMap':
        return this.encoder.encodeStringMap(reply.value);
    }
  }
}
