// The ALB metric provider behind the go-plugin metric dispatch (src/goplugin/metric-dispatch.ts), driven with
// the calls Argo's own client encoded (test/goplugin/gob/fixtures/metric-vectors.json, from the AnalysisRun of
// test/conformance/testdata/analysisrun.yaml: Rollout shop/checkout), and the replies as Go reads them.
// The fixture's plugin block predates the analysis fields, so Run on it as sent is a configuration Error; the
// same call with the block replaced by a valid one measures through a stand-in mode and CloudWatch.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAlbMetricProvider, METRIC_PROVIDER_TYPE } from '../../src/analysis/provider.js';
import type { Rollout } from '../../src/core/rollout.js';
import { GobDecoder, GobEncoder, GobInterface, type GobStruct, type GobValue, type GoMeasurement } from '../../src/goplugin/gob/index.js';
import { metricProviderMethods } from '../../src/goplugin/metric-dispatch.js';
import type { Reply } from '../../src/goplugin/netrpc/reply.js';
import type { RpcCall } from '../../src/goplugin/netrpc/server.js';
import type { Mode } from '../../src/plugin/mode.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import { canonical, decodeChunks, type Vector } from '../goplugin/gob/fixtures.js';
import { fakeCloudWatch, publish, type CwCall, type Store } from './fake-cloudwatch.js';

const vectors = JSON.parse(readFileSync(new URL('../goplugin/gob/fixtures/metric-vectors.json', import.meta.url), 'utf8')) as Vector[];
const calls = decodeChunks([Buffer.from(vectors.find((v) => v.name === 'argo metric-provider plugin stream')!.hex, 'hex')]);
const body = (i: number): GobValue => calls[2 * i + 1]!;
const [RUN, RESUME, TERMINATE, GC, METADATA] = [body(2), body(3), body(4), body(5), body(6)];

const PLUGIN = 'argoproj-labs/alb-analysis';
/** 2026-03-04T05:12:30Z; the window with the defaults is 05:05–05:10. */
const NOW = Date.UTC(2026, 2, 4, 5, 12, 30);
const MINUTE0 = Date.UTC(2026, 2, 4, 5, 5, 0);
const ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012';
const LB = 'app/k8s-shop-checkout-0123456789/50dc6c495c0c9188';
const CANARY = 'targetgroup/k8s-shop-canary-73e2d6bc24/73e2d6bc24d8a067';
const STABLE = 'targetgroup/k8s-shop-stable-0a1b2c3d4e/0a1b2c3d4e5f6a7b';

const checkout: Rollout = {
  metadata: { name: 'checkout', namespace: 'shop', uid: '6f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8' },
  spec: { strategy: { canary: { trafficRouting: { plugins: { 'argoproj-labs/alb': { ingress: 'checkout', servicePort: 80 } } } } } },
  status: { canary: { weights: { canary: { weight: 20, serviceName: 'checkout-canary' }, stable: { weight: 80, serviceName: 'checkout-stable' } } } },
} as Rollout;

function setup() {
  const store: Store = new Map();
  const cwCalls: CwCall[] = [];
  const gets: string[] = [];
  const mode: Mode = {
    name: 'ingress',
    claims: () => true,
    readable: () => true,
    router: {} as Mode['router'],
    cleanup: {} as Mode['cleanup'],
    report: () => Promise.reject(new Error('not used')),
    albTargets: async () => [
      { ingress: 'checkout', loadBalancerArn: `${ARN}:loadbalancer/${LB}`, canaryTargetGroupArn: `${ARN}:${CANARY}`, stableTargetGroupArn: `${ARN}:${STABLE}` },
    ],
  };
  const provider = createAlbMetricProvider({
    metricPluginName: PLUGIN,
    modes: new ModeTable('argoproj-labs/alb', [mode]),
    getRollout: async (ns, name) => {
      gets.push(`${ns}/${name}`);
      return ns === 'shop' && name === 'checkout' ? checkout : undefined;
    },
    cloudwatch: fakeCloudWatch(store, cwCalls, undefined, MINUTE0),
    verificationEnabled: true,
    now: () => new Date(NOW),
  });
  const methods = metricProviderMethods(provider, () => NOW);
  const call = (): RpcCall => ({ signal: new AbortController().signal, deadline: Date.now() + 25_000, timeoutMs: 25_000 });
  const invoke = (method: string, b: GobValue) => Promise.resolve().then(() => methods.get(`Plugin.${method}`)!.handle(b, call()));
  return { store, cwCalls, gets, invoke };
}

/** A Measurement reply as Go reads it: the Go shape through our encoder and decoder, times as text. */
function asGo(reply: Reply): Record<string, unknown> {
  expect(reply.kind).toBe('measurement');
  const dec = new GobDecoder();
  dec.feed(new GobEncoder().encodeMeasurement((reply as { value: GoMeasurement }).value));
  return canonical(dec.next()!) as Record<string, unknown>;
}

/** A decoded struct with some fields replaced, keeping its gob type (on the prototype). */
const withFields = (s: GobStruct, fields: Record<string, GobValue>): GobStruct => Object.assign(Object.create(Object.getPrototypeOf(s) as object) as GobStruct, s, fields);

/** The vector's RunArgs with the plugin's block (a json.RawMessage) replaced. */
function runWithBlock(block: unknown): GobValue {
  const run = RUN as GobInterface;
  const args = run.value as GobStruct;
  const metric = args.Metric as GobStruct;
  const provider = metric.Provider as GobStruct;
  const plugin = new Map(provider.Plugin as Map<string, Uint8Array>);
  plugin.set(PLUGIN, new TextEncoder().encode(JSON.stringify(block)));
  return new GobInterface(run.name, withFields(args, { Metric: withFields(metric, { Provider: withFields(provider, { Plugin: plugin }) }) }));
}

describe('ALB metric provider through the go-plugin metric dispatch', () => {
  it('Run with the fixture\'s block: a finished Error naming the first unknown field, nothing read', async () => {
    const { invoke, gets, cwCalls } = setup();
    const m = asGo(await invoke('Run', RUN));
    expect(m).toMatchObject({ Phase: 'Error', StartedAt: { $time: '2026-03-04T05:12:30Z' }, FinishedAt: { $time: '2026-03-04T05:12:30Z' } });
    expect(m.Message).toMatch(
      /^spec\.metrics\[name="alb-5xx-rate"\]\.provider\.plugin\["argoproj-labs\/alb-analysis"\]\.\w+: unknown field; the fields are lookback, settleDelay, minRequests, maxErrorRate/,
    );
    expect(gets).toEqual([]);
    expect(cwCalls).toEqual([]);
  });

  it('Run with a valid block: the Rollout owner read, one GetMetricData, the judged measurement as Go reads it', async () => {
    const { invoke, gets, cwCalls, store } = setup();
    publish(store, LB, CANARY, 100, { 2: 1 });
    publish(store, LB, STABLE, 400, { 1: 2, 3: 1 });
    const m = asGo(await invoke('Run', runWithBlock({ maxErrorRateIncrease: 0.01 })));
    expect(gets).toEqual(['shop/checkout']);
    expect(cwCalls).toHaveLength(1);
    expect(m.Phase).toBe('Successful');
    expect(m.Message).toMatch(/^canary passed maxErrorRateIncrease over 5 min \(05:05–05:10 UTC\): canary 5xx rate 0\.2 % \(1 of 500 requests\)/);
    expect(JSON.parse(m.Value as string)).toMatchObject({ canaryWeight: 20, canary: { requests: 500, errors: 1 }, stable: { requests: 2000, errors: 3 } });
    // A Go map, canonical as sorted pairs.
    expect(Object.fromEntries((m.Metadata as { $map: Array<[string, string]> }).$map)).toEqual({
      rollout: 'shop/checkout',
      mode: 'ingress',
      canaryWeight: '20',
      loadBalancers: LB,
      canaryTargetGroups: CANARY,
      stableTargetGroups: STABLE,
    });
    expect(m.StartedAt).toEqual({ $time: '2026-03-04T05:12:30Z' });
    expect(m.FinishedAt).toEqual({ $time: '2026-03-04T05:12:30Z' });
  });

  it('Resume of the fixture\'s measurement in flight closes it as Error; Terminate finishes what it is handed', async () => {
    const { invoke } = setup();
    const resumed = asGo(await invoke('Resume', RESUME));
    expect(resumed.Phase).toBe('Error');
    expect(resumed.Message).toMatch(/not in flight here/);
    expect(resumed.FinishedAt).toEqual({ $time: '2026-03-04T05:12:30Z' });
    const terminated = asGo(await invoke('Terminate', TERMINATE));
    expect(terminated.Phase).toBe('Successful');
    expect(terminated.FinishedAt).toBeDefined();
  });

  it('InitPlugin, Type, GarbageCollect succeed; GetMetadata of the fixture\'s unreadable block is empty', async () => {
    const { invoke } = setup();
    expect(await invoke('InitPlugin', null)).toEqual({ kind: 'rpcError', errorString: '' });
    expect(await invoke('Type', null)).toEqual({ kind: 'string', value: METRIC_PROVIDER_TYPE });
    expect(await invoke('GarbageCollect', GC)).toEqual({ kind: 'rpcError', errorString: '' });
    expect(await invoke('GetMetadata', METADATA)).toEqual({ kind: 'stringMap', value: {} });
  });
});
