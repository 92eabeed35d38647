import { describe, expect, it } from 'vitest';
import type { ArgConverters } from '../../src/goplugin/args.js';
import { acceptBrokerStream, BrokerIds } from '../../src/goplugin/broker.js';
import { controlMethods } from '../../src/goplugin/control.js';
import { ArgNames, pluginMethods } from '../../src/goplugin/dispatch.js';
import { UnknownBrokerIdError } from '../../src/goplugin/errors.js';
import { GOB_TYPE_NAME, GobInterface, type GobStruct, type GobValue } from '../../src/goplugin/gob/values.js';
import { replyFailed, type Reply } from '../../src/goplugin/netrpc/reply.js';
import type { Rollout, WeightDestination } from '../../src/core/rollout.js';
import { RpcVerified, type TrafficRouter, type VerifyWeightResult } from '../../src/plugin/router.js';
import { duplexPair } from './fixtures.js';

function struct(name: string, fields: Record<string, GobValue>): GobStruct {
  return Object.assign(Object.create({ [GOB_TYPE_NAME]: name }) as GobStruct, fields);
}

// A stand-in for the peer (the real converters are tested with Go vectors by their owner): it keeps only
// what this test needs to see that the right fields reached the router.
const converters: ArgConverters = {
  rollout: (go) => ({ metadata: { name: String((go as GobStruct).Name) }, spec: { strategy: {} } }) as Rollout,
  weightDestinations: (go) => ((go as GobValue[] | undefined) ?? []).map((d) => ({ weight: Number((d as GobStruct).Weight ?? 0), serviceName: String((d as GobStruct).ServiceName) })),
  setHeaderRoute: (go) => ({ name: String((go as GobStruct).Name) }),
  setMirrorRoute: (go) => ({ name: String((go as GobStruct).Name) }),
};

class RecordingRouter implements TrafficRouter {
  calls: unknown[][] = [];
  fail: Error | undefined;
  verifyResult: VerifyWeightResult = { verified: RpcVerified.Verified };
  private record(...c: unknown[]): Promise<void> {
    this.calls.push(c);
    return this.fail ? Promise.reject(this.fail) : Promise.resolve();
  }
  initPlugin = () => this.record('initPlugin');
  type = () => 'ALB';
  updateHash = (r: Rollout, c: string, s: string, d: WeightDestination[]) => this.record('updateHash', r.metadata.name, c, s, d);
  setWeight = (r: Rollout, w: number, d: WeightDestination[]) => this.record('setWeight', r.metadata.name, w, d);
  verifyWeight = async (r: Rollout, w: number, d: WeightDestination[]) => {
    await this.record('verifyWeight', r.metadata.name, w, d);
    return this.verifyResult;
  };
  setHeaderRoute = (r: Rollout, h: { name: string }) => this.record('setHeaderRoute', r.metadata.name, h.name);
  setMirrorRoute = (r: Rollout, m: { name: string }) => this.record('setMirrorRoute', r.metadata.name, m.name);
  removeManagedRoutes = (r: Rollout) => this.record('removeManagedRoutes', r.metadata.name);
}

const ro = struct('Rollout', { Name: 'web' });
const dest = [struct('WeightDestination', { Weight: 5, ServiceName: 'exp' })];

// [method, body, expected router call]
const cases: Array<[string, GobValue, unknown[]]> = [
  ['Plugin.InitPlugin', null, ['initPlugin']],
  ['Plugin.UpdateHash', new GobInterface(ArgNames.updateHash, struct('UpdateHashArgs', { Rollout: ro, CanaryHash: 'c1', StableHash: 's1', AdditionalDestinations: dest })), ['updateHash', 'web', 'c1', 's1', [{ weight: 5, serviceName: 'exp' }]]],
  // DesiredWeight 0 and empty hashes are omitted by gob: they arrive absent.
  ['Plugin.UpdateHash', new GobInterface(ArgNames.updateHash, struct('UpdateHashArgs', { Rollout: ro })), ['updateHash', 'web', '', '', []]],
  ['Plugin.SetWeight', new GobInterface(ArgNames.setWeight, struct('SetWeightAndVerifyWeightArgs', { Rollout: ro, DesiredWeight: 30 })), ['setWeight', 'web', 30, []]],
  ['Plugin.SetWeight', new GobInterface(ArgNames.setWeight, struct('SetWeightAndVerifyWeightArgs', { Rollout: ro })), ['setWeight', 'web', 0, []]],
  ['Plugin.SetHeaderRoute', new GobInterface(ArgNames.setHeader, struct('SetHeaderArgs', { Rollout: ro, SetHeaderRoute: struct('SetHeaderRoute', { Name: 'hdr' }) })), ['setHeaderRoute', 'web', 'hdr']],
  ['Plugin.SetMirrorRoute', new GobInterface(ArgNames.setMirror, struct('SetMirrorArgs', { Rollout: ro, SetMirrorRoute: struct('SetMirrorRoute', { Name: 'mir' }) })), ['setMirrorRoute', 'web', 'mir']],
  ['Plugin.RemoveManagedRoutes', new GobInterface(ArgNames.removeManagedRoutes, struct('RemoveManagedRoutesArgs', { Rollout: ro })), ['removeManagedRoutes', 'web']],
];

describe('Plugin dispatch', () => {
  it.each(cases)('%s reaches the router with the decoded arguments and answers RpcError{""}', async (method, body, call) => {
    const router = new RecordingRouter();
    const reply = await pluginMethods(router, converters).get(method)!.handle(body);
    expect(router.calls).toEqual([call]);
    expect(reply).toEqual({ kind: 'rpcError', errorString: '' });
  });

  it.each(cases)('%s answers the router error as ErrorString', async (method, body) => {
    const router = new RecordingRouter();
    router.fail = new Error('spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"].servicePort: required');
    const reply = await pluginMethods(router, converters).get(method)!.handle(body);
    expect(reply).toEqual({ kind: 'rpcError', errorString: router.fail.message });
  });

  it.each(cases.filter(([m]) => m !== 'Plugin.InitPlugin'))('%s refuses an argument of another type like Argo\'s stub', async (method) => {
    const router = new RecordingRouter();
    const wrong = new GobInterface('SomethingElse', struct('X', {}));
    await expect(Promise.resolve(pluginMethods(router, converters).get(method)!.handle(wrong))).rejects.toThrow(/invalid args: expected \w+Args, got interface "SomethingElse"/);
    expect(router.calls).toEqual([]);
  });

  it.each<[string, VerifyWeightResult | Error, object]>([
    ['verified', { verified: RpcVerified.Verified }, { verified: 1, errorString: '' }],
    ['not implemented', { verified: RpcVerified.NotImplemented }, { verified: 2, errorString: '' }],
    ['not verified with a reason', { verified: RpcVerified.NotVerified, err: 'tg weight 10 != 30' }, { verified: 0, errorString: 'tg weight 10 != 30' }],
    ['a thrown error', new Error('DescribeRules throttled'), { verified: 0, errorString: 'DescribeRules throttled' }],
  ])('VerifyWeight answers %s', async (_, result, expected) => {
    const router = new RecordingRouter();
    if (result instanceof Error) router.fail = result;
    else router.verifyResult = result;
    const body = new GobInterface(ArgNames.setWeight, struct('SetWeightAndVerifyWeightArgs', { Rollout: ro, DesiredWeight: 30, AdditionalDestinations: dest }));
    const reply = await pluginMethods(router, converters).get('Plugin.VerifyWeight')!.handle(body);
    expect(reply).toEqual({ kind: 'verifyWeight', ...expected });
    expect(router.calls).toEqual([['verifyWeight', 'web', 30, [{ weight: 5, serviceName: 'exp' }]]]);
  });

  // Issue #12 item 3: the router must see the call's deadline signal, or it cannot stop a stale write.
  it.each(cases)('%s hands the RPC call (deadline and signal) to the router', async (method, body) => {
    const seen: unknown[] = [];
    const last = (...a: unknown[]) => (seen.push(a[a.length - 1]), Promise.resolve());
    const router: TrafficRouter = {
      initPlugin: last,
      type: () => 'ALB',
      updateHash: last,
      setWeight: last,
      verifyWeight: async (...a: unknown[]) => (seen.push(a[a.length - 1]), { verified: RpcVerified.Verified }),
      setHeaderRoute: last,
      setMirrorRoute: last,
      removeManagedRoutes: last,
    };
    const call = { signal: new AbortController().signal, deadline: Date.now() + 25_000, timeoutMs: 25_000 };
    await pluginMethods(router, converters).get(method)!.handle(body, call);
    expect(seen).toEqual([call]);
  });

  it('answers Type with the router type, and timeouts with an ErrorString of the right reply type', () => {
    const m = pluginMethods(new RecordingRouter(), converters);
    expect(m.get('Plugin.Type')!.handle(null)).toEqual({ kind: 'string', value: 'ALB' });
    expect(m.get('Plugin.SetWeight')!.onTimeout!('late')).toEqual({ kind: 'rpcError', errorString: 'late' });
    expect(m.get('Plugin.VerifyWeight')!.onTimeout!('late')).toEqual({ kind: 'verifyWeight', verified: 0, errorString: 'late' });
  });
});

describe('Argo master\'s weight-update deadline methods (after v1.10)', () => {
  const getArgs = new GobInterface(ArgNames.getWeightUpdateDeadline, struct('GetWeightUpdateDeadlineArgs', { Rollout: ro }));
  const clearArgs = new GobInterface(ArgNames.clearWeightUpdateDeadline, struct('ClearWeightUpdateDeadlineArgs', { Rollout: ro }));

  it.each<[string, GobValue, Reply]>([
    ['Plugin.GetWeightUpdateDeadline', getArgs, { kind: 'weightUpdateDeadline', errorString: '' }],
    ['Plugin.ClearWeightUpdateDeadline', clearArgs, { kind: 'rpcError', errorString: '' }],
  ])('%s: nothing pending, nothing to clear; the router is not asked, even when it would fail', async (method, body, expected) => {
    const router = new RecordingRouter();
    router.fail = new Error('would fail');
    const m = pluginMethods(router, converters).get(method);
    expect(m).toBeDefined();
    expect(await m!.handle(body)).toEqual(expected);
    expect(replyFailed(expected)).toBe(false);
    expect(router.calls).toEqual([]);
  });

  it.each([
    ['Plugin.GetWeightUpdateDeadline', 'GetWeightUpdateDeadlineArgs', clearArgs],
    ['Plugin.ClearWeightUpdateDeadline', 'ClearWeightUpdateDeadlineArgs', getArgs],
    ['Plugin.GetWeightUpdateDeadline', 'GetWeightUpdateDeadlineArgs', null],
  ])('%s refuses an argument of another type like Argo\'s stub', async (method, name, wrong) => {
    const m = pluginMethods(new RecordingRouter(), converters).get(method)!;
    await expect(Promise.resolve().then(() => m.handle(wrong))).rejects.toThrow(new RegExp(`^invalid args: expected ${name}, got `));
  });

  it('times out with an ErrorString in the reply type Argo decodes', () => {
    const m = pluginMethods(new RecordingRouter(), converters);
    expect(m.get('Plugin.GetWeightUpdateDeadline')!.onTimeout!('late')).toEqual({ kind: 'weightUpdateDeadline', errorString: 'late' });
    expect(m.get('Plugin.ClearWeightUpdateDeadline')!.onTimeout!('late')).toEqual({ kind: 'rpcError', errorString: 'late' });
    expect(replyFailed({ kind: 'weightUpdateDeadline', errorString: 'late' })).toBe(true);
  });
});

describe('Control and Dispenser', () => {
  it('dispenses ids 1, 2, … for RpcTrafficRouterPlugin and refuses other names with go-plugin\'s message', () => {
    const ids = new BrokerIds();
    const m = controlMethods({ brokerIds: ids, quit: () => {} });
    expect(m.get('Dispenser.Dispense')!.handle('RpcTrafficRouterPlugin')).toEqual({ kind: 'uint', value: 1 });
    expect(m.get('Dispenser.Dispense')!.handle('RpcTrafficRouterPlugin')).toEqual({ kind: 'uint', value: 2 });
    // Without a metric provider, the metric-provider plugin is not served.
    expect(() => m.get('Dispenser.Dispense')!.handle('RpcMetricProviderPlugin')).toThrow('unknown plugin type: RpcMetricProviderPlugin');
    expect(ids.claim(2)).toBe('RpcTrafficRouterPlugin');
    expect(ids.claim(2)).toBeUndefined();
    expect(ids.claim(3)).toBeUndefined();
  });

  it('dispenses both plugin kinds from one id sequence when both are served, each id remembering its kind', () => {
    const ids = new BrokerIds();
    const m = controlMethods({ brokerIds: ids, quit: () => {}, plugins: new Set(['RpcTrafficRouterPlugin', 'RpcMetricProviderPlugin']) });
    expect(m.get('Dispenser.Dispense')!.handle('RpcMetricProviderPlugin')).toEqual({ kind: 'uint', value: 1 });
    expect(m.get('Dispenser.Dispense')!.handle('RpcTrafficRouterPlugin')).toEqual({ kind: 'uint', value: 2 });
    expect(() => m.get('Dispenser.Dispense')!.handle('RpcStepPlugin')).toThrow('unknown plugin type: RpcStepPlugin');
    expect(() => m.get('Dispenser.Dispense')!.handle(7)).toThrow('unknown plugin type: "7"');
    expect(ids.claim(2)).toBe('RpcTrafficRouterPlugin');
    expect(ids.claim(1)).toBe('RpcMetricProviderPlugin');
  });

  it('quits only after the reply', () => {
    let quits = 0;
    const m = controlMethods({ brokerIds: new BrokerIds(), quit: () => quits++ });
    expect(m.get('Control.Quit')!.handle(true)).toEqual({ kind: 'empty' });
    expect(quits).toBe(0);
    m.get('Control.Quit')!.afterReply!();
    expect(quits).toBe(1);
  });
});

describe('MuxBroker id exchange', () => {
  it.each([
    ['in one chunk with the first request behind it', [Buffer.from('0100000013ff', 'hex')]],
    ['split byte by byte', [...Buffer.from('0100000013ff', 'hex')].map((b) => Buffer.from([b]))],
  ])('reads the id %s, echoes it first and hands on the rest', async (_, chunks) => {
    const ids = new BrokerIds();
    ids.next('RpcTrafficRouterPlugin');
    const [client, server] = duplexPair();
    const accepted = acceptBrokerStream(server, ids);
    const echoed: Buffer[] = [];
    client.on('data', (c: Buffer) => echoed.push(c));
    for (const c of chunks) client.write(c);
    const { id, plugin, rest } = await accepted;
    expect(id).toBe(1);
    expect(plugin).toBe('RpcTrafficRouterPlugin');
    // The first request's bytes: those that came in the id's chunk, then those still queued on the stream
    // for the net/rpc server (Node 26's Duplex.from hands on one chunk per write; Node 20 merged them).
    const queued: Buffer[] = [];
    server.on('data', (c: Buffer) => queued.push(c));
    server.resume();
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat([rest, ...queued]).toString('hex')).toBe('13ff');
    expect(Buffer.concat(echoed).toString('hex')).toBe('01000000');
  });

  it('refuses an id Dispense never handed out, writing nothing', async () => {
    const ids = new BrokerIds();
    ids.next('RpcTrafficRouterPlugin');
    const [client, server] = duplexPair();
    const echoed: Buffer[] = [];
    client.on('data', (c: Buffer) => echoed.push(c));
    const accepted = acceptBrokerStream(server, ids);
    client.write(Buffer.from('07000000', 'hex'));
    await expect(accepted).rejects.toBeInstanceOf(UnknownBrokerIdError);
    expect(echoed).toEqual([]);
  });

  it('gives up when the stream ends before the id', async () => {
    const [client, server] = duplexPair();
    const accepted = acceptBrokerStream(server, new BrokerIds());
    client.end(Buffer.from('01', 'hex'));
    await expect(accepted).rejects.toThrow(/closed after 1 of the 4 id bytes/);
  });
});
