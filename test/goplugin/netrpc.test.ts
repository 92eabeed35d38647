import { describe, expect, it } from 'vitest';
import { BadRequestHeaderError } from '../../src/goplugin/errors.js';
import { GobError } from '../../src/goplugin/gob/errors.js';
import { EMPTY_REPLY, type Reply } from '../../src/goplugin/netrpc/reply.js';
import { serveNetRpc, type CallOutcome, type RpcCall, type RpcMethod } from '../../src/goplugin/netrpc/server.js';
import { duplexPair, silentLogger, TestRpcClient } from './fixtures.js';

interface Harness {
  client: TestRpcClient;
  /** Ends the controller's side of the stream (the session going away). */
  hangUp(): void;
  stopped: Promise<Error | undefined>;
  calls: Array<[string, CallOutcome]>;
}

function start(methods: Record<string, RpcMethod>, callTimeoutMs = 30_000): Harness {
  const [clientSide, serverSide] = duplexPair();
  const calls: Array<[string, CallOutcome]> = [];
  let onStop!: (e: Error | undefined) => void;
  const stopped = new Promise<Error | undefined>((r) => (onStop = r));
  serveNetRpc(serverSide, {
    methods: new Map(Object.entries(methods)),
    callTimeoutMs,
    logger: silentLogger,
    onStop,
    onCall: (m, o) => calls.push([m, o]),
  });
  return { client: new TestRpcClient(clientSide), hangUp: () => clientSide.end(), stopped, calls };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('net/rpc server', () => {
  it('answers with the exact bytes Go sends for a first Dispense and a first Ping (spec §6.7)', async () => {
    const h = start({
      'Dispenser.Dispense': { handle: () => ({ kind: 'uint', value: 1 }) },
      'Control.Ping': { handle: () => EMPTY_REPLY },
    });
    h.client.send('Dispenser.Dispense', 0, { kind: 'string', value: 'RpcTrafficRouterPlugin' });
    await h.client.waitForReplies(1);
    h.client.send('Control.Ping', 1, { kind: 'bool', value: true });
    const replies = await h.client.waitForReplies(2);
    const hex = Buffer.concat(h.client.raw).toString('hex');
    const s = (t: string): string => Buffer.from(t).toString('hex');
    const expected =
      '3aff8103010108' + s('Response') + '01ff8200010301' + '0d' + s('ServiceMethod') + '010c00' + '0103' + s('Seq') +
      '010600' + '0105' + s('Error') + '010c000000' +
      '17ff820112' + s('Dispenser.Dispense') + '00' + '03060001' +
      '13ff82010c' + s('Control.Ping') + '010100' + '0aff83030102ff84000000' +
      '03ff8400';
    expect(hex).toBe(expected);
    expect(replies.map((r) => [r.header.Seq ?? 0, r.body])).toEqual([
      [0, 1],
      [1, expect.anything()],
    ]);
    expect(h.calls).toEqual([
      ['Dispenser.Dispense', 'ok'],
      ['Control.Ping', 'ok'],
    ]);
  });

  it.each([
    [0, '00'],
    [300, '01fe012c00'],
    [2 ** 53 + 2, '01f92000000000000200'],
  ])('echoes Seq %s exactly (header bytes end %s)', async (seq, tail) => {
    const h = start({ 'Control.Ping': { handle: () => EMPTY_REPLY } });
    const enc = h.client.enc;
    // Request built by hand for Seq beyond 2^53, which only a bigint can carry.
    h.client.writeRaw(Buffer.concat([enc.encodeRequest({ ServiceMethod: 'Control.Ping', Seq: BigInt(seq) }), enc.encodeBool(true)]));
    const [reply] = await h.client.waitForReplies(1);
    expect(BigInt((reply!.header.Seq ?? 0) as number | bigint)).toBe(BigInt(seq));
    const head = Buffer.concat(h.client.raw).toString('hex');
    expect(head).toContain(Buffer.from('Control.Ping').toString('hex') + tail);
  });

  it('answers 25 concurrent calls in completion order, each with its own Seq', async () => {
    const gates = Array.from({ length: 25 }, () => deferred<void>());
    let index = 0;
    const h = start({
      'Test.Echo': {
        handle: async (body) => {
          const mine = index++;
          await gates[mine]!.promise;
          return { kind: 'string', value: `${String(body)}#${mine}` };
        },
      },
    });
    for (let seq = 0; seq < 25; seq++) h.client.send('Test.Echo', seq, { kind: 'string', value: `call${seq}` });
    // Wait until all 25 are running, then release them last-first.
    while (index < 25) await new Promise((r) => setImmediate(r));
    for (let i = 24; i >= 0; i--) gates[i]!.resolve();
    const replies = await h.client.waitForReplies(25);
    expect(replies.map((r) => r.header.Seq ?? 0)).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
    for (const r of replies) expect(r.body).toBe(`call${String(r.header.Seq ?? 0)}#${String(r.header.Seq ?? 0)}`);
  });

  it.each([
    ['Plugin.Nope', "rpc: can't find method Plugin.Nope"],
    ['Nope.Ping', "rpc: can't find service Nope.Ping"],
    ['NoDot', 'rpc: service/method request ill-formed: NoDot'],
  ])('answers %s with net/rpc error %j and keeps serving', async (method, message) => {
    const h = start({ 'Plugin.Type': { handle: () => ({ kind: 'string', value: 'ALB' }) } });
    h.client.send(method, 7, { kind: 'bool', value: true });
    h.client.send('Plugin.Type', 8, { kind: 'nil' });
    const [bad, good] = await h.client.waitForReplies(2);
    expect(bad!.header).toMatchObject({ ServiceMethod: method, Seq: 7, Error: message });
    expect(good!.header.Error).toBeUndefined();
    expect(good!.body).toBe('ALB');
    expect(h.calls).toEqual([
      ['unknown', 'error'],
      ['Plugin.Type', 'ok'],
    ]);
  });

  it('never answers a failure with an empty Response.Error (Go would take it for success)', async () => {
    const h = start({
      'Plugin.Fail': {
        handle: () => {
          throw new Error('');
        },
      },
    });
    h.client.send('Plugin.Fail', 1, { kind: 'nil' });
    const [reply] = await h.client.waitForReplies(1);
    expect(reply!.header.Error).toBe('plugin call failed without a message');
  });

  it('turns a thrown error into Response.Error with an empty body, then serves the next call', async () => {
    const h = start({
      'Plugin.Fail': {
        handle: () => {
          throw new Error('boom');
        },
      },
      'Plugin.Type': { handle: () => ({ kind: 'string', value: 'ALB' }) },
    });
    h.client.send('Plugin.Fail', 4, { kind: 'nil' });
    h.client.send('Plugin.Type', 5, { kind: 'nil' });
    const [fail, ok] = await h.client.waitForReplies(2);
    expect(fail!.header).toMatchObject({ Seq: 4, Error: 'boom' });
    expect(Object.keys(fail!.body as object)).toEqual([]);
    expect(ok!.body).toBe('ALB');
    expect(h.calls).toEqual([
      ['Plugin.Fail', 'error'],
      ['Plugin.Type', 'ok'],
    ]);
  });

  it.each<[string, RpcMethod['onTimeout'], Partial<{ Error: string }>, (body: unknown) => void]>([
    [
      'the method reply from onTimeout',
      (msg) => ({ kind: 'rpcError', errorString: msg }),
      {},
      (body) => expect((body as { ErrorString: string }).ErrorString).toMatch(/Plugin.Slow did not finish within 0.05s .*--rpc-timeout-seconds/),
    ],
    ['a net/rpc error without onTimeout', undefined, { Error: expect.stringMatching(/did not finish/) as unknown as string }, () => {}],
  ])('answers a call that runs out of time with %s, and drops the late result', async (_, onTimeout, header, checkBody) => {
    const gate = deferred<Reply>();
    const h = start({ 'Plugin.Slow': { handle: () => gate.promise, onTimeout }, 'Control.Ping': { handle: () => EMPTY_REPLY } }, 50);
    h.client.send('Plugin.Slow', 1, { kind: 'nil' });
    const [timedOut] = await h.client.waitForReplies(1);
    expect(timedOut!.header).toMatchObject({ Seq: 1, ...header });
    checkBody(timedOut!.body);
    gate.resolve({ kind: 'rpcError', errorString: '' });
    h.client.send('Control.Ping', 2, { kind: 'bool', value: true });
    const all = await h.client.waitForReplies(2);
    expect(all.map((r) => r.header.Seq)).toEqual([1, 2]);
    expect(h.calls).toEqual([
      ['Plugin.Slow', 'timeout'],
      ['Control.Ping', 'ok'],
    ]);
  });

  // Issue #12 item 3: the answer at the deadline must also stop the work behind it, or a stale SetWeight
  // writes after the newer call Argo sends next.
  it('fires the signal of a call at its deadline, after answering, with the timeout message as the reason', async () => {
    const gate = deferred<Reply>();
    const seen: RpcCall[] = [];
    const h = start(
      {
        'Plugin.Slow': { handle: (_b, call) => (seen.push(call!), gate.promise), onTimeout: (msg) => ({ kind: 'rpcError', errorString: msg }) },
        'Plugin.Fast': { handle: (_b, call) => (seen.push(call!), EMPTY_REPLY) },
      },
      50,
    );
    const before = Date.now();
    h.client.send('Plugin.Fast', 1, { kind: 'nil' });
    h.client.send('Plugin.Slow', 2, { kind: 'nil' });
    await h.client.waitForReplies(1);
    const [fast, slow] = seen;
    expect(fast!.signal.aborted).toBe(false);
    expect(slow!.signal.aborted).toBe(false);
    expect(slow!.timeoutMs).toBe(50);
    expect(slow!.deadline).toBeGreaterThanOrEqual(before + 50);
    expect(slow!.deadline).toBeLessThanOrEqual(Date.now() + 50);

    await h.client.waitForReplies(2);
    expect(slow!.signal.aborted).toBe(true);
    expect((slow!.signal.reason as Error).message).toMatch(/Plugin.Slow did not finish within 0.05s .*--rpc-timeout-seconds/);
    // A call that finished in time is never cancelled afterwards.
    await new Promise((r) => setTimeout(r, 80));
    expect(fast!.signal.aborted).toBe(false);
    gate.resolve(EMPTY_REPLY);
  });

  it('fires the signal of every running call when the stream stops (nobody is left to read the answer)', async () => {
    const gate = deferred<Reply>();
    const seen: RpcCall[] = [];
    const h = start({ 'Plugin.Slow': { handle: (_b, call) => (seen.push(call!), gate.promise) } });
    h.client.send('Plugin.Slow', 1, { kind: 'nil' });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(1);
    h.hangUp();
    await h.stopped;
    expect(seen[0]!.signal.aborted).toBe(true);
    expect((seen[0]!.signal.reason as Error).message).toMatch(/session closed before the call finished/);
    gate.resolve(EMPTY_REPLY);
  });

  it('answers Ping while a slow call on the same stream is still running', async () => {
    const gate = deferred<Reply>();
    const h = start({ 'Plugin.Slow': { handle: () => gate.promise }, 'Control.Ping': { handle: () => EMPTY_REPLY } });
    h.client.send('Plugin.Slow', 0, { kind: 'nil' });
    h.client.send('Control.Ping', 1, { kind: 'bool', value: true });
    const [first] = await h.client.waitForReplies(1);
    expect(first!.header.ServiceMethod).toBe('Control.Ping');
    gate.resolve(EMPTY_REPLY);
    await h.client.waitForReplies(2);
  });

  it.each([
    // A value of type id 66 that was never defined on this stream.
    ['undecodable gob', Buffer.from('03ff8400', 'hex'), GobError],
    ['a header that is not a struct', Buffer.from('0b0c0008' + Buffer.from('tsplugin').toString('hex'), 'hex'), BadRequestHeaderError],
  ])('stops the stream on %s without answering', async (_, bytes, errorClass) => {
    const h = start({ 'Control.Ping': { handle: () => EMPTY_REPLY } });
    h.client.writeRaw(bytes);
    const err = await h.stopped;
    expect(err).toBeInstanceOf(errorClass);
    expect(h.client.raw).toEqual([]);
  });

  it('runs afterReply once the reply is written', async () => {
    const quit = deferred<void>();
    const h = start({ 'Control.Quit': { handle: () => EMPTY_REPLY, afterReply: () => quit.resolve() } });
    h.client.send('Control.Quit', 3, { kind: 'bool', value: true });
    const [reply] = await h.client.waitForReplies(1);
    await quit.promise;
    expect(reply!.header).toMatchObject({ ServiceMethod: 'Control.Quit', Seq: 3 });
  });
});

describe('net/rpc server logs', () => {
  it('logs a failed call once, with its method and error; a successful one not at all', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger } = await import('../../src/logger.js');
    const lines: Array<{ msg: string; method?: string; error?: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; method?: string; error?: string });
        done();
      },
    });
    const [clientSide, serverSide] = duplexPair();
    serveNetRpc(serverSide, {
      methods: new Map<string, RpcMethod>([
        ['Plugin.SetWeight', { handle: () => ({ kind: 'rpcError', errorString: 'ingress `shop`: not an ALB Ingress' }) }],
        ['Control.Ping', { handle: () => EMPTY_REPLY }],
      ]),
      callTimeoutMs: 30_000,
      logger: createLogger('info', sink),
      onStop: () => {},
    });
    const client = new TestRpcClient(clientSide);
    client.send('Plugin.SetWeight', 0, { kind: 'bool', value: true });
    client.send('Control.Ping', 1, { kind: 'bool', value: true });
    await client.waitForReplies(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(lines.filter((l) => l.msg === 'plugin call failed')).toEqual([
      expect.objectContaining({ method: 'Plugin.SetWeight', error: 'ingress `shop`: not an ALB Ingress' }),
    ]);
    expect(lines.filter((l) => l.method === 'Control.Ping')).toEqual([]);
  });
});
