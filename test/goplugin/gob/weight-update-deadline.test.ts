// Argo master's WeightUpdateDeadlineResponse{Deadline *time.Time; Err RpcError}: what our encoder writes,
// message by message, against what Go's encoder wrote for the same values (test/goplugin/gobgen,
// deadline.go). Go numbers its types per process, so our encoder is given Go's ids, read from Go's stream.

import { describe, expect, it } from 'vitest';
import { GobEncoder, TIME_POINTER_TYPE, WEIGHT_UPDATE_DEADLINE_RESPONSE_TYPE } from '../../../src/goplugin/gob/encoder.js';
import { GobError } from '../../../src/goplugin/gob/index.js';
import { canonical, decodeChunks, hex, normaliseGo, vector } from './fixtures.js';

function readUint(b: Buffer, at: number): [value: number, next: number] {
  const first = b[at]!;
  if (first < 0x80) return [first, at + 1];
  const n = 256 - first;
  return [b.readUIntBE(at + 1, n), at + 1 + n];
}

function readInt(b: Buffer, at: number): [value: number, next: number] {
  const [u, next] = readUint(b, at);
  return [u % 2 === 1 ? -(u - 1) / 2 - 1 : u / 2, next];
}

interface Message {
  /** Negative for a type definition. */
  id: number;
  /** The message without its length prefix. */
  body: Buffer;
}

function messages(stream: Buffer): Message[] {
  const out: Message[] = [];
  for (let at = 0; at < stream.length; ) {
    const [len, start] = readUint(stream, at);
    const body = stream.subarray(start, start + len);
    out.push({ id: readInt(body, 0)[0], body });
    at = start + len;
  }
  return out;
}

const has = (m: Message, text: string): boolean => m.body.includes(Buffer.from(text));

/** Go's type ids, found by what each definition says. */
function goIds(stream: Buffer): Record<string, number> {
  const defs = messages(stream).filter((m) => m.id < 0);
  const idOf = (pick: (m: Message) => boolean): number => -defs.find(pick)!.id;
  return {
    RpcError: idOf((m) => has(m, 'RpcError')),
    WeightUpdateDeadlineResponse: idOf((m) => has(m, 'WeightUpdateDeadlineResponse')),
    // The only GobEncoderT (wireType field 4, delta 5) right after the id.
    Time: idOf((m) => m.body[readInt(m.body, 0)[1]] === 5),
  };
}

/**
 * Go's definition of a `*time.Time` field names no type and carries, as its inner id, a second id Go
 * allocates for the pointer type and never uses again; ours repeats the outer id. Decoders ignore both.
 * Returns the definition with that inner id set to the outer one, after checking it has Go's shape.
 */
function withOuterInnerId(def: Message): Buffer {
  const [, afterId] = readInt(def.body, 0);
  // GobEncoderT { CommonType { Id (Name omitted) } }
  expect([...def.body.subarray(afterId, afterId + 3)]).toEqual([0x05, 0x01, 0x02]);
  const [, afterInner] = readInt(def.body, afterId + 3);
  expect([...def.body.subarray(afterInner)]).toEqual([0, 0, 0]);
  return Buffer.concat([def.body.subarray(0, afterId), Buffer.from([0x05, 0x01, 0x02]), gobInt(-def.id), Buffer.from([0, 0, 0])]);
}

/** gob's encoding of a non-negative int: uint(2n), one byte below 128, else length-prefixed big-endian. */
function gobInt(n: number): Buffer {
  const u = n * 2;
  if (u < 0x80) return Buffer.from([u]);
  const bytes: number[] = [];
  for (let x = u; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Buffer.from([256 - bytes.length, ...bytes]);
}

function compare(goStream: Buffer, ours: Buffer): void {
  const go = messages(goStream);
  const mine = messages(ours);
  // Values: the same bytes in the same order.
  expect(mine.filter((m) => m.id > 0).map((m) => m.body.toString('hex'))).toEqual(go.filter((m) => m.id > 0).map((m) => m.body.toString('hex')));
  // Definitions: the same set. Go sends a struct before its field types, we send field types first
  // (plugin-protocol.md §6.7); Go's decoder resolves ids only when a value arrives, so both work.
  const goDefs = go.filter((m) => m.id < 0).map((m) => (m.body[readInt(m.body, 0)[1]] === 5 ? withOuterInnerId(m) : m.body).toString('hex'));
  expect(mine.filter((m) => m.id < 0).map((m) => m.body.toString('hex')).sort()).toEqual([...goDefs].sort());
}

describe('WeightUpdateDeadlineResponse against Go', () => {
  const replies = Buffer.from(vector('argo master weight-update deadline replies').hex, 'hex');

  it('finds three types of Go\'s, with distinct ids', () => {
    const ids = goIds(replies);
    expect(new Set(Object.values(ids)).size).toBe(3);
    for (const id of Object.values(ids)) expect(id).toBeGreaterThanOrEqual(64);
  });

  it('after InitPlugin\'s RpcError (a real plugin stream): no deadline, then an error', () => {
    const enc = new GobEncoder({ typeIds: goIds(replies) });
    const ours = Buffer.concat([
      enc.encodeRpcError(''),
      enc.encodeWeightUpdateDeadlineResponse(),
      enc.encodeWeightUpdateDeadlineResponse('boom'),
    ]);
    compare(replies, ours);
    // The nil pointer is left out (field delta 2 goes straight to Err) and the empty Err is still sent.
    const nilDeadline = messages(ours).filter((m) => m.id > 0)[1]!;
    expect([...nilDeadline.body.subarray(readInt(nilDeadline.body, 0)[1])]).toEqual([0x02, 0x00, 0x00]);
    expect(decodeChunks([ours]).map(canonical)).toEqual(vector('argo master weight-update deadline replies').values.map(normaliseGo));
  });

  it('as the first value of a stream, every definition goes with it', () => {
    const first = Buffer.from(vector('argo master weight-update deadline reply first on its stream').hex, 'hex');
    const ours = new GobEncoder({ typeIds: goIds(first) }).encodeWeightUpdateDeadlineResponse();
    compare(first, ours);
    expect(messages(ours).map((m) => m.id)).toEqual([-goIds(first).Time, -goIds(first).RpcError, -goIds(first).WeightUpdateDeadlineResponse, goIds(first).WeightUpdateDeadlineResponse]);
  });

  it('with the default ids, each definition goes once per stream', () => {
    const enc = new GobEncoder();
    const first = enc.encodeWeightUpdateDeadlineResponse();
    expect(messages(first).map((m) => m.id)).toEqual([-70, -67, -69, 69]);
    expect(enc.encodeWeightUpdateDeadlineResponse('x')).toEqual(hex('08 ff 8a 02 01 01 "x" 00 00'));
    // RpcError is shared with VerifyWeightResponse: only the latter's definition is new.
    expect(messages(enc.encodeVerifyWeightResponse(1)).map((m) => m.id)).toEqual([-68, 68]);
  });

  it('refuses a GobEncoder type at the top level, and a time field given as anything but its GobEncode bytes', () => {
    const enc = new GobEncoder();
    expect(() => enc.encode(TIME_POINTER_TYPE, null)).toThrow(/Time is only encoded as a struct field/);
    expect(() => enc.encode(WEIGHT_UPDATE_DEADLINE_RESPONSE_TYPE, { Deadline: '2026-03-04T05:06:07Z', Err: {} })).toThrow(
      /WeightUpdateDeadlineResponse.Deadline: a Time must be given as its GobEncode bytes/,
    );
    expect(() => enc.encode(WEIGHT_UPDATE_DEADLINE_RESPONSE_TYPE, { Deadline: 0, Err: {} })).toThrow(GobError);
  });

  it('writes a time field as its GobEncode bytes, length first (the Measurement replies need it)', () => {
    const enc = new GobEncoder();
    const deadline = hex('01 00 00 00 0e dd 25 74 25 00 00 00 06 ff ff');
    const value = messages(enc.encode(WEIGHT_UPDATE_DEADLINE_RESPONSE_TYPE, { Deadline: deadline, Err: {} })).filter((m) => m.id > 0)[0]!;
    // Field 0 (delta 1), 15 bytes, the time; then Err (delta 1), empty; end of struct.
    expect(value.body.subarray(readInt(value.body, 0)[1]).toString('hex')).toBe('010f' + deadline.toString('hex') + '010000');
  });
});
