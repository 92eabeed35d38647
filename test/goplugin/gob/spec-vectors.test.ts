// The hex vectors of plugin-protocol.md (§6.1–6.3, §6.6–6.8, appendix A), produced or accepted by Go.
// Each is decoded whole, byte by byte and split at every byte boundary; the encoder must reproduce the
// reply vectors byte for byte.

import { describe, expect, it } from 'vitest';
import {
  GobDecoder,
  GobEncoder,
  GobInterface,
  GobTime,
  gobTypeName,
  parseGoTime,
  type GobValue,
} from '../../../src/goplugin/gob/index.js';
import { byteByByte, decodeChunks, hex, splitAt, whole } from './fixtures.js';

// Definitions shared by several vectors (strings in quotes are their UTF-8 bytes).
const REQUEST_DEF_65 =
  '2f ff 81 03 01 01 07 "Request" 01 ff 82 00 01 02 01 0d "ServiceMethod" 01 0c 00 01 03 "Seq" 01 06 00 00 00';
const responseDef = (def: string, ref: string) =>
  `3a ${def} 03 01 01 08 "Response" 01 ${ref} 00 01 03 01 0d "ServiceMethod" 01 0c 00 01 03 "Seq" 01 06 00 01 05 "Error" 01 0c 00 00 00`;
const rpcErrorDef = (def: string, ref: string) =>
  `26 ${def} 03 01 01 08 "RpcError" 01 ${ref} 00 01 01 01 0b "ErrorString" 01 0c 00 00 00`;
const verifyDef = (def: string, ref: string, errRef: string) =>
  `38 ${def} 03 01 01 14 "VerifyWeightResponse" 01 ${ref} 00 01 02 01 08 "Verified" 01 04 00 01 03 "Err" 01 ${errRef} 00 00 00`;
const emptyDef = (def: string, ref: string) => `0a ${def} 03 01 02 ${ref} 00 00 00`;
const UPDATE_HASH_DEF_69 =
  'ff 89 03 01 01 0e "UpdateHashArgs" 01 ff 8a 00 01 02 01 0a "CanaryHash" 01 0c 00 01 0a "StableHash" 01 0c 00 00 00';

/** A top-level singleton of builtin type `id` whose value bytes are `value`. */
function singleton(typeIdByte: string, value: string): string {
  const body = hex(`${typeIdByte} 00 ${value}`);
  return `${body.length.toString(16).padStart(2, '0')} ${body.toString('hex')}`;
}

const u64max = (1n << 64n) - 1n;

interface DecodeCase {
  name: string;
  bytes: string;
  values: GobValue[];
}

const decodeCases: DecodeCase[] = [
  // §6.1 unsigned integers (type id 3 → 06) and signed (id 2 → 04)
  ...(
    [
      ['00', 0],
      ['07', 7],
      ['7f', 127],
      ['ff 80', 128],
      ['fe 01 00', 256],
      ['f8 ff ff ff ff ff ff ff ff', u64max],
    ] as const
  ).map(([b, v]) => ({ name: `uint ${v}`, bytes: singleton('06', b), values: [v] })),
  ...(
    [
      ['01', -1],
      ['00', 0],
      ['02', 1],
      ['7e', 63],
      ['ff 80', 64],
      ['ff fe', 127],
      ['fe 01 00', 128],
      ['fe 01 01', -129],
      ['f8 ff ff ff ff ff ff ff fe', (1n << 63n) - 1n],
      ['f8 ff ff ff ff ff ff ff ff', -(1n << 63n)],
    ] as const
  ).map(([b, v]) => ({ name: `int ${v}`, bytes: singleton('04', b), values: [v] })),
  { name: 'int64 127 as Go writes it', bytes: '04 04 00 ff fe', values: [127] },
  ...(
    [
      ['fe 31 40', 17],
      ['fe e0 3f', 0.5],
      ['fe 02 c0', -2.25],
    ] as const
  ).map(([b, v]) => ({ name: `float ${v}`, bytes: singleton('08', b), values: [v] })),
  { name: 'string "x"', bytes: singleton('0c', '01 78'), values: ['x'] },
  // §6.2
  { name: 'string "test"', bytes: '07 0c 00 04 "test"', values: ['test'] },
  // §6.3: RpcError definition with id 65, then the same value again without it
  {
    name: 'RpcError definition and value, value again',
    bytes: `${rpcErrorDef('ff 81', 'ff 82')} 06 ff 82 01 01 78 00 06 ff 82 01 01 78 00`,
    values: [{ ErrorString: 'x' }, { ErrorString: 'x' }],
  },
  // §6.6
  { name: 'uint32 1 (Dispense reply)', bytes: '03 06 00 01', values: [1] },
  { name: 'true (Ping argument)', bytes: '03 02 00 01', values: [true] },
  { name: '"tsplugin"', bytes: '0b 0c 00 08 "tsplugin"', values: ['tsplugin'] },
  { name: 'new(any): nil interface', bytes: '03 10 00 00', values: [null] },
  { name: 'struct{}{} with id 66', bytes: `${emptyDef('ff 83', 'ff 84')} 03 ff 84 00`, values: [{}] },
  {
    name: 'Request headers Seq 0, 1, 300',
    bytes: `${REQUEST_DEF_65} 11 ff 82 01 0c "Control.Ping" 00 13 ff 82 01 0c "Control.Ping" 01 01 00 15 ff 82 01 0c "Control.Ping" 01 fe 01 2c 00`,
    values: [{ ServiceMethod: 'Control.Ping' }, { ServiceMethod: 'Control.Ping', Seq: 1 }, { ServiceMethod: 'Control.Ping', Seq: 300 }],
  },
  {
    // The interface name and the first definition share a message; the value comes in the next one.
    name: 'any(UpdateHashArgs) first and second time',
    bytes: `4b 10 00 0e "UpdateHashArgs" ${UPDATE_HASH_DEF_69} 0a ff 8a 07 01 01 61 01 01 62 00 1b 10 00 0e "UpdateHashArgs" ff 8a 07 01 01 61 01 01 62 00`,
    values: [
      new GobInterface('UpdateHashArgs', { CanaryHash: 'a', StableHash: 'b' }),
      new GobInterface('UpdateHashArgs', { CanaryHash: 'a', StableHash: 'b' }),
    ],
  },
  {
    name: 'VerifyWeightResponse{Verified: 1} with RpcError 65, VerifyWeightResponse 67',
    bytes: `${rpcErrorDef('ff 81', 'ff 82')} ${verifyDef('ff 85', 'ff 86', 'ff 82')} 07 ff 86 01 02 01 00 00`,
    values: [{ Verified: 1, Err: {} }],
  },
  // Appendix A, client → server
  {
    name: 'appendix A: Dispense request on the control stream',
    bytes: `${REQUEST_DEF_65} 17 ff 82 01 12 "Dispenser.Dispense" 00 19 0c 00 16 "RpcTrafficRouterPlugin"`,
    values: [{ ServiceMethod: 'Dispenser.Dispense' }, 'RpcTrafficRouterPlugin'],
  },
  {
    name: 'appendix A: plugin stream calls without arguments',
    bytes: `${REQUEST_DEF_65} 16 ff 82 01 11 "Plugin.InitPlugin" 00 03 10 00 00
            12 ff 82 01 0b "Plugin.Type" 01 01 00 03 10 00 00
            12 ff 82 01 0b "Plugin.Fail" 01 04 00 03 10 00 00
            12 ff 82 01 0b "Plugin.Nope" 01 05 00 03 02 00 01`,
    values: [
      { ServiceMethod: 'Plugin.InitPlugin' },
      null,
      { ServiceMethod: 'Plugin.Type', Seq: 1 },
      null,
      { ServiceMethod: 'Plugin.Fail', Seq: 4 },
      null,
      { ServiceMethod: 'Plugin.Nope', Seq: 5 },
      true,
    ],
  },
  {
    name: 'appendix A: Control.Ping and Control.Quit',
    bytes: `${REQUEST_DEF_65} 13 ff 82 01 0c "Control.Ping" 01 01 00 03 02 00 01 13 ff 82 01 0c "Control.Quit" 01 02 00 03 02 00 01`,
    values: [{ ServiceMethod: 'Control.Ping', Seq: 1 }, true, { ServiceMethod: 'Control.Quit', Seq: 2 }, true],
  },
  // Appendix A, server → client (what Go's rpc client reads)
  {
    name: 'appendix A: plugin stream replies',
    bytes: `${responseDef('ff 83', 'ff 84')} 16 ff 84 01 11 "Plugin.InitPlugin" 00 ${rpcErrorDef('ff 85', 'ff 86')} 03 ff 86 00
            12 ff 84 01 0b "Plugin.Type" 01 01 00 07 0c 00 04 "test"
            1a ff 84 01 13 "Plugin.VerifyWeight" 01 03 00 ${verifyDef('ff 9b', 'ff 9c', 'ff 86')} 07 ff 9c 01 02 01 00 00
            18 ff 84 01 0b "Plugin.Fail" 01 04 01 04 "boom" 00 ${emptyDef('ff 9d', 'ff 9e')} 03 ff 9e 00`,
    values: [
      { ServiceMethod: 'Plugin.InitPlugin' },
      {},
      { ServiceMethod: 'Plugin.Type', Seq: 1 },
      'test',
      { ServiceMethod: 'Plugin.VerifyWeight', Seq: 3 },
      { Verified: 1, Err: {} },
      { ServiceMethod: 'Plugin.Fail', Seq: 4, Error: 'boom' },
      {},
    ],
  },
];

const strategies = [
  ['whole', whole],
  ['byte by byte', byteByByte],
] as const;

describe('spec vectors decode', () => {
  it.each(decodeCases.flatMap((c) => strategies.map(([s, fn]) => ({ ...c, strategy: s, fn }))))(
    '$name ($strategy)',
    ({ bytes, values, fn }) => {
      const b = hex(bytes);
      const dec = new GobDecoder();
      expect(decodeChunks(fn(b), dec)).toEqual(values);
      expect(dec.bufferedBytes).toBe(0);
    },
  );

  it.each(decodeCases)('$name (split at every byte boundary)', ({ bytes, values }) => {
    const b = hex(bytes);
    for (let k = 0; k <= b.length; k++) expect(decodeChunks(splitAt(b, k)), `split at ${k}`).toEqual(values);
  });

  it('keeps the wire type name of structs', () => {
    const [v] = decodeChunks([hex(`${rpcErrorDef('ff 81', 'ff 82')} 06 ff 82 01 01 78 00`)]);
    expect(gobTypeName(v)).toBe('RpcError');
    expect(Object.keys(v as object)).toEqual(['ErrorString']);
  });

  it('returns nothing before a message is complete, and a value as soon as it is', () => {
    const b = hex(`${REQUEST_DEF_65} 11 ff 82 01 0c "Control.Ping" 00`);
    const dec = new GobDecoder();
    dec.feed(b.subarray(0, b.length - 1));
    expect(dec.next()).toBeUndefined();
    expect(dec.next()).toBeUndefined();
    dec.feed(b.subarray(b.length - 1));
    expect(dec.next()).toEqual({ ServiceMethod: 'Control.Ping' });
    expect(dec.next()).toBeUndefined();
  });
});

describe('§6.8 time binary form', () => {
  it.each([
    ['01 00 00 00 0e dd 25 74 25 00 00 00 06 ff ff', '2024-01-02T03:04:05.000000006Z', '2024-01-02T03:04:05Z', null],
    ['01 00 00 00 0e dd 25 74 25 00 00 00 00 01 4a', '2024-01-02T08:34:05+05:30', '2024-01-02T03:04:05Z', 19800],
  ])('%s', (bytes, nano, rfc, offset) => {
    const t = parseGoTime(hex(bytes));
    expect(t).toBeInstanceOf(GobTime);
    expect(t!.toRFC3339Nano()).toBe(nano);
    expect(t!.toRFC3339()).toBe(rfc);
    expect(t!.offsetSeconds).toBe(offset);
    expect(t!.unixSeconds).toBe(1704164645);
  });

  it('inside a struct: GobEncoder type named Time', () => {
    // struct "S" {At Time(id 66)} with 66 = GobEncoderT "Time"
    const bytes = hex(`17 ff 81 03 01 01 01 "S" 01 ff 82 00 01 01 01 02 "At" 01 ff 84 00 00 00
                       10 ff 83 05 01 01 04 "Time" 01 ff 84 00 00 00
                       14 ff 82 01 0f 01 00 00 00 0e dd 25 74 25 00 00 00 06 ff ff 00`);
    const [v] = decodeChunks([bytes]) as [{ At: GobTime }];
    expect(v.At.toRFC3339Nano()).toBe('2024-01-02T03:04:05.000000006Z');
  });

  it.each([
    ['version 3', '03 00 00 00 0e dd 25 74 25 00 00 00 06 ff ff'],
    ['short', '01 00 00 00 0e dd 25 74 25 00 00 00 06 ff'],
    ['nanoseconds out of range', '01 00 00 00 0e dd 25 74 25 7f ff ff ff ff ff'],
  ])('not a time: %s', (_name, bytes) => {
    expect(parseGoTime(hex(bytes))).toBeUndefined();
  });
});

describe('encoder reproduces the reply vectors', () => {
  it('§6.7 control stream: Dispense, Ping (first empty struct), Ping again, error reply', () => {
    const enc = new GobEncoder();
    expect(Buffer.concat([enc.encodeResponse({ ServiceMethod: 'Dispenser.Dispense', Seq: 0 }), enc.encodeUint(1)])).toEqual(
      hex(`${responseDef('ff 81', 'ff 82')} 17 ff 82 01 12 "Dispenser.Dispense" 00 03 06 00 01`),
    );
    expect(Buffer.concat([enc.encodeResponse({ ServiceMethod: 'Control.Ping', Seq: 1 }), enc.encodeEmptyStruct()])).toEqual(
      hex(`13 ff 82 01 0c "Control.Ping" 01 01 00 ${emptyDef('ff 83', 'ff 84')} 03 ff 84 00`),
    );
    expect(Buffer.concat([enc.encodeResponse({ ServiceMethod: 'Control.Ping', Seq: 7 }), enc.encodeEmptyStruct()])).toEqual(
      hex('13 ff 82 01 0c "Control.Ping" 01 07 00 03 ff 84 00'),
    );
    const msg = "rpc: can't find method Plugin.Nope";
    expect(Buffer.concat([enc.encodeResponse({ ServiceMethod: 'Plugin.Nope', Seq: 5, Error: msg }), enc.encodeEmptyStruct()])).toEqual(
      hex(`36 ff 82 01 0b "Plugin.Nope" 01 05 01 22 "${msg}" 00 03 ff 84 00`),
    );
  });

  it('§6.7 plugin stream: InitPlugin, RpcError "x", Type, VerifyWeight twice', () => {
    const enc = new GobEncoder();
    expect(Buffer.concat([enc.encodeResponse({ ServiceMethod: 'Plugin.InitPlugin', Seq: 0 }), enc.encodeRpcError('')])).toEqual(
      hex(`${responseDef('ff 81', 'ff 82')} 16 ff 82 01 11 "Plugin.InitPlugin" 00 ${rpcErrorDef('ff 85', 'ff 86')} 03 ff 86 00`),
    );
    expect(enc.encodeRpcError('x')).toEqual(hex('06 ff 86 01 01 78 00'));
    expect(enc.encodeString('tsplugin')).toEqual(hex('0b 0c 00 08 "tsplugin"'));
    expect(Buffer.concat([enc.encodeResponse({ ServiceMethod: 'Plugin.VerifyWeight', Seq: 3 }), enc.encodeVerifyWeightResponse(1)])).toEqual(
      hex(`1a ff 82 01 13 "Plugin.VerifyWeight" 01 03 00 ${verifyDef('ff 87', 'ff 88', 'ff 86')} 07 ff 88 01 02 01 00 00`),
    );
    expect(enc.encodeVerifyWeightResponse(0, 'boom')).toEqual(hex('0b ff 88 02 01 04 "boom" 00 00'));
  });

  it('§6.3 RpcError with id 65, §6.6 VerifyWeightResponse with ids 65/67, struct{} with id 66', () => {
    expect(new GobEncoder({ typeIds: { RpcError: 65 } }).encodeRpcError('x')).toEqual(
      hex(`${rpcErrorDef('ff 81', 'ff 82')} 06 ff 82 01 01 78 00`),
    );
    // Dependencies go first: RpcError's definition precedes VerifyWeightResponse's.
    expect(new GobEncoder({ typeIds: { RpcError: 65, VerifyWeightResponse: 67 } }).encodeVerifyWeightResponse(1)).toEqual(
      hex(`${rpcErrorDef('ff 81', 'ff 82')} ${verifyDef('ff 85', 'ff 86', 'ff 82')} 07 ff 86 01 02 01 00 00`),
    );
    expect(new GobEncoder().encodeEmptyStruct()).toEqual(hex(`${emptyDef('ff 83', 'ff 84')} 03 ff 84 00`));
  });

  it('§6.6 request-side values: Request header, true, nil interface', () => {
    const enc = new GobEncoder();
    expect(enc.encodeRequest({ ServiceMethod: 'Control.Ping', Seq: 0 })).toEqual(hex(`${REQUEST_DEF_65} 11 ff 82 01 0c "Control.Ping" 00`));
    expect(enc.encodeRequest({ ServiceMethod: 'Control.Ping', Seq: 300 })).toEqual(hex('15 ff 82 01 0c "Control.Ping" 01 fe 01 2c 00'));
    expect(enc.encodeBool(true)).toEqual(hex('03 02 00 01'));
    expect(enc.encodeNilInterface()).toEqual(hex('03 10 00 00'));
  });

  it('appendix A: the server side of the plugin and control streams, with its type ids', () => {
    const ids = { Response: 66, RpcError: 67, VerifyWeightResponse: 78, Empty: 79 };
    const plugin = new GobEncoder({ typeIds: ids });
    const reply = (method: string, seq: number, body: Buffer, error?: string) =>
      Buffer.concat([plugin.encodeResponse({ ServiceMethod: method, Seq: seq, Error: error }), body]);
    expect(reply('Plugin.InitPlugin', 0, plugin.encodeRpcError(''))).toEqual(
      hex(`${responseDef('ff 83', 'ff 84')} 16 ff 84 01 11 "Plugin.InitPlugin" 00 ${rpcErrorDef('ff 85', 'ff 86')} 03 ff 86 00`),
    );
    expect(reply('Plugin.Type', 1, plugin.encodeString('test'))).toEqual(hex('12 ff 84 01 0b "Plugin.Type" 01 01 00 07 0c 00 04 "test"'));
    expect(reply('Plugin.SetWeight', 2, plugin.encodeRpcError(''))).toEqual(hex('17 ff 84 01 10 "Plugin.SetWeight" 01 02 00 03 ff 86 00'));
    const verify = reply('Plugin.VerifyWeight', 3, plugin.encodeVerifyWeightResponse(1));
    expect(verify).toEqual(
      hex(`1a ff 84 01 13 "Plugin.VerifyWeight" 01 03 00 ${verifyDef('ff 9b', 'ff 9c', 'ff 86')} 07 ff 9c 01 02 01 00 00`),
    );
    expect(verify.length).toBe(92);
    const fail = reply('Plugin.Fail', 4, plugin.encodeEmptyStruct(), 'boom');
    expect(fail).toEqual(hex(`18 ff 84 01 0b "Plugin.Fail" 01 04 01 04 "boom" 00 0a ff 9d 03 01 02 ff 9e 00 00 00 03 ff 9e 00`));
    expect(fail.length).toBe(40);
    expect(reply('Plugin.Nope', 5, plugin.encodeEmptyStruct(), "rpc: can't find method Plugin.Nope").length).toBe(59);

    const control = new GobEncoder({ typeIds: ids });
    const dispense = Buffer.concat([control.encodeResponse({ ServiceMethod: 'Dispenser.Dispense', Seq: 0 }), control.encodeUint(1)]);
    expect(dispense.length).toBe(87);
    expect(Buffer.concat([control.encodeResponse({ ServiceMethod: 'Control.Ping', Seq: 1 }), control.encodeEmptyStruct()])).toEqual(
      hex('13 ff 84 01 0c "Control.Ping" 01 01 00 0a ff 9d 03 01 02 ff 9e 00 00 00 03 ff 9e 00'),
    );
    expect(Buffer.concat([control.encodeResponse({ ServiceMethod: 'Control.Quit', Seq: 2 }), control.encodeEmptyStruct()])).toEqual(
      hex('13 ff 84 01 0c "Control.Quit" 01 02 00 03 ff 9e 00'),
    );
  });

  it('round-trips through the decoder: extremes of every scalar kind', () => {
    const enc = new GobEncoder();
    const bytes = Buffer.concat([
      enc.encodeUint(u64max),
      enc.encodeUint(0),
      enc.encode('int', -(1n << 63n)),
      enc.encode('int', Number.MAX_SAFE_INTEGER),
      enc.encode('float', -2.25),
      enc.encode('float', 1e-310),
      enc.encodeString('héllo ✓ 🚀'),
      enc.encode('bytes', new Uint8Array([0, 255])),
      enc.encodeVerifyWeightResponse(2, 'ünï'),
      enc.encodeResponse({ ServiceMethod: 'a.b', Seq: u64max, Error: 'e' }),
    ]);
    expect(decodeChunks(byteByByte(bytes))).toEqual([
      u64max,
      0,
      -(1n << 63n),
      Number.MAX_SAFE_INTEGER,
      -2.25,
      1e-310,
      'héllo ✓ 🚀',
      new Uint8Array([0, 255]),
      { Verified: 2, Err: { ErrorString: 'ünï' } },
      { ServiceMethod: 'a.b', Seq: u64max, Error: 'e' },
    ]);
  });

  it.each([
    ['a negative uint', () => new GobEncoder().encodeUint(-1)],
    ['an unsafe number', () => new GobEncoder().encodeUint(2 ** 60)],
    ['a uint beyond 64 bits', () => new GobEncoder().encodeUint(1n << 64n)],
    ['an id below 64', () => new GobEncoder({ typeIds: { RpcError: 12 } }).encodeRpcError('')],
  ])('refuses %s', (_name, fn) => {
    expect(fn).toThrow(/gob:/);
  });

  it('refuses two types on one id', () => {
    const enc = new GobEncoder({ typeIds: { RpcError: 66 } });
    enc.encodeRpcError('');
    expect(() => enc.encodeEmptyStruct()).toThrow(/used by both RpcError and Empty/);
  });
});
