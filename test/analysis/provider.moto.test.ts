// The ALB metric provider end to end against moto_server 5.2.6, behind the counting proxy (it names calls by
// Action or X-Amz-Target, so ELBv2's Describe* and CloudWatch's GetMetricData are counted apart): the load
// balancer and target groups seeded in ELBv2 as the LBC builds them for an Ingress, found by Ingress mode's own
// albTargets (the weight verifier, src/modes/ingress/alb-targets.ts), the ALB metrics published as AWS
// publishes them (alb-metrics.ts) and read by the real CloudWatch client. Counts: one GetMetricData per
// measurement; ELBv2: discovery cold, one DescribeRules warm, listeners and rules again after 30 s.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createCloudWatch, type CloudWatch } from '../../src/analysis/cloudwatch.js';
import { ANALYSIS_DEFAULTS } from '../../src/analysis/config.js';
import { createAlbMetricProvider } from '../../src/analysis/provider.js';
import { loadBalancerDimension, targetGroupDimension, type AnalysisTarget } from '../../src/analysis/query.js';
import { queryWindow } from '../../src/analysis/window.js';
import type { Rollout } from '../../src/core/rollout.js';
import { ingressAlbTargets } from '../../src/modes/ingress/alb-targets.js';
import { createWeightVerifier, type WeightVerifierApi } from '../../src/modes/ingress/verify/verifier.js';
import type { IngressStatusView } from '../../src/modes/ingress/verify/weight-check.js';
import type { CallContext } from '../../src/plugin/call.js';
import type { AnalysisRun, JsonValue, Metric, MetricProvider } from '../../src/plugin/metric-provider.js';
import type { Mode } from '../../src/plugin/mode.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { createNetwork, seedIngress, type Network, type SeededIngress } from '../support/lbc-seed.js';
import { elbv2Client, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../support/moto.js';
import { CallLog, testElbv2 } from '../verify/fixtures.js';
import { cloudwatchClient, loadBalancerDatums, putDatums, targetGroupDatums, type MinuteTraffic } from './alb-metrics.js';

const ROUTER = 'argoproj-labs/alb';
const ANALYSIS = 'argoproj-labs/alb-analysis';

let moto: Moto;
let proxy: Elbv2Proxy;
let elbv2: ElasticLoadBalancingV2Client;
let seeder: CloudWatchClient;
let net: Network;
let seq = 0;

// One "now" for the whole file: the window stays put when the wall clock's minute changes during the run.
const NOW = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
const WINDOW = queryWindow(NOW, ANALYSIS_DEFAULTS.lookbackSeconds, ANALYSIS_DEFAULTS.settleDelaySeconds);
const minute = (i: number) => new Date(WINDOW.start.getTime() + i * 60_000);

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  elbv2 = elbv2Client(moto.endpoint);
  seeder = cloudwatchClient(moto.endpoint);
  net = await createNetwork(moto.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => proxy.resetCounts());

interface World {
  namespace: string;
  seeded: SeededIngress;
  target: AnalysisTarget;
  rollout: Rollout;
  provider: MetricProvider;
  cloudwatchCalls: Array<[string, string]>;
  elbv2Log: CallLog;
  /** Moves the weight verifier's clock (its discovery cache ages by it). */
  advance(ms: number): void;
}

/** One Ingress's ALB with a canary and a stable target group at 20/80, its Rollout, and the provider over them. */
async function world(opts: { weight?: number; verificationEnabled?: boolean; cloudwatch?: CloudWatch } = {}): Promise<World> {
  const namespace = `p${++seq}`;
  const weight = opts.weight ?? 20;
  const seeded = await seedIngress(elbv2, net, {
    namespace, ingress: 'shop', servicePort: 80, services: ['canary-svc', 'stable-svc'], weights: { 'canary-svc': weight, 'stable-svc': 100 - weight },
  });
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'shop', namespace, uid: `uid-${namespace}` },
    spec: {
      strategy: {
        canary: {
          canaryService: 'canary-svc',
          stableService: 'stable-svc',
          steps: [{ setWeight: weight }, { pause: {} }],
          trafficRouting: { plugins: { [ROUTER]: { ingress: 'shop', servicePort: 80 } } },
        },
      },
    },
    status: {
      stableRS: 'stable-hash',
      currentPodHash: 'canary-hash',
      currentStepIndex: 1,
      canary: { weights: { canary: { weight, serviceName: 'canary-svc' }, stable: { weight: 100 - weight, serviceName: 'stable-svc' } } },
    },
  } as Rollout;

  const elbv2Log = new CallLog();
  let skew = 0;
  const getIngress = async (ns: string, name: string): Promise<IngressStatusView> => {
    if (ns !== namespace || name !== 'shop') throw new Error(`ingresses.networking.k8s.io "${name}" not found`);
    return { status: { loadBalancer: { ingress: [{ hostname: seeded.lb.hostname }] } } };
  };
  const verifier: WeightVerifierApi = createWeightVerifier({
    enabled: true,
    elbv2: testElbv2(proxy.endpoint, elbv2Log),
    getIngress,
    resourceTagKey: 'ingress.k8s.aws/resource',
    now: () => Date.now() + skew,
  });
  // Ingress mode's albTargets, as src/modes/ingress/mode.ts wires it, on the verifier above.
  const mode: Mode = {
    name: 'ingress',
    claims: () => true,
    readable: () => true,
    router: {} as Mode['router'],
    cleanup: {} as Mode['cleanup'],
    report: () => Promise.reject(new Error('not used')),
    albTargets: (r) => ingressAlbTargets(ROUTER, verifier, r),
  };
  const cloudwatchCalls: Array<[string, string]> = [];
  const cloudwatch =
    opts.cloudwatch ??
    createCloudWatch({
      region: MOTO_REGION,
      endpoint: proxy.endpoint,
      credentials: MOTO_CREDENTIALS,
      rateLimit: 1000,
      rateBurst: 1000,
      onCall: (op, outcome) => cloudwatchCalls.push([op, outcome]),
    });
  const provider = createAlbMetricProvider({
    metricPluginName: ANALYSIS,
    modes: new ModeTable(ROUTER, [mode]),
    getRollout: async (ns, name) => (ns === namespace && name === 'shop' ? rollout : undefined),
    cloudwatch,
    verificationEnabled: opts.verificationEnabled ?? true,
    now: () => new Date(NOW),
  });
  const target = {
    loadBalancer: loadBalancerDimension(seeded.lb.arn),
    canaryTargetGroup: targetGroupDimension(seeded.tgs['canary-svc']!.arn),
    stableTargetGroup: targetGroupDimension(seeded.tgs['stable-svc']!.arn),
  };
  return { namespace, seeded, target, rollout, provider, cloudwatchCalls, elbv2Log, advance: (ms) => (skew += ms) };
}

function traffic(requests: number, errors: Record<number, number> = {}, latency = 0.05): MinuteTraffic[] {
  return [0, 1, 2, 3, 4].map((i) => ({ at: minute(i), requests, errors: errors[i] ?? 0, latency }));
}

async function publish(t: AnalysisTarget, canary: MinuteTraffic[], stable: MinuteTraffic[]): Promise<void> {
  const perMinute = canary.map((m, i) => ({ at: m.at, requests: m.requests + (stable[i]?.requests ?? 0) }));
  await putDatums(seeder, [
    ...targetGroupDatums(t.loadBalancer, t.canaryTargetGroup, canary),
    ...targetGroupDatums(t.loadBalancer, t.stableTargetGroup, stable),
    ...loadBalancerDatums(t.loadBalancer, perMinute),
  ]);
}

function runOf(w: World, owners?: AnalysisRun['metadata']['ownerReferences']): AnalysisRun {
  return {
    metadata: {
      name: 'shop-canary-hash-1-1',
      namespace: w.namespace,
      ownerReferences: owners ?? [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'shop', uid: `uid-${w.namespace}`, controller: true }],
    },
    spec: { metrics: [] },
  };
}

const metric = (block: JsonValue = { maxErrorRateIncrease: 0.01, maxLatencyIncrease: 0.2 }): Metric => ({
  name: 'alb', interval: '5m', provider: { plugin: { [ANALYSIS]: block } },
});

const call = (): CallContext => ({ signal: new AbortController().signal, deadline: Date.now() + 25_000, timeoutMs: 25_000 });

describe('ALB metric provider against moto (Ingress mode\'s albTargets, the real CloudWatch client)', () => {
  it('healthy canary: Successful with one GetMetricData; ELBv2: discovery cold, one DescribeRules warm, listeners and rules after 30 s', async () => {
    const w = await world();
    await publish(w.target, traffic(100, { 2: 1 }, 0.052), traffic(400, { 1: 2, 3: 1 }, 0.05));
    proxy.resetCounts();

    const first = await w.provider.run(runOf(w), metric(), call());
    expect(first.phase).toBe('Successful');
    expect(JSON.parse(first.value!)).toMatchObject({
      canaryWeight: 20,
      canary: { requests: 500, errors: 1, errorRate: 0.002, latencySeconds: 0.052 },
      stable: { requests: 2000, errors: 3, errorRate: 0.0015, latencySeconds: 0.05 },
    });
    expect(first.metadata).toEqual({
      rollout: `${w.namespace}/shop`,
      mode: 'ingress',
      canaryWeight: '20',
      loadBalancers: w.target.loadBalancer,
      canaryTargetGroups: w.target.canaryTargetGroup,
      stableTargetGroups: w.target.stableTargetGroup,
    });
    expect(proxy.count('GetMetricData')).toBe(1);
    expect(w.cloudwatchCalls).toEqual([['GetMetricData', 'success']]);
    // Cold: the Ingress's load balancer, its listeners, the rules, the target groups' tags.
    expect(w.elbv2Log.ops().sort()).toEqual(['DescribeListeners', 'DescribeLoadBalancers', 'DescribeRules', 'DescribeTags']);

    // Within the discovery's 30 s (e.g. right after a VerifyWeight): the rules only.
    proxy.resetCounts();
    const second = await w.provider.run(runOf(w), metric(), call());
    expect(second.phase).toBe('Successful');
    expect(proxy.counts()).toEqual({ DescribeRules: 1, GetMetricData: 1 });

    // A measurement interval of minutes: listeners and rules are read again; the load balancer and the target
    // groups' tags are kept.
    w.advance(5 * 60_000);
    proxy.resetCounts();
    const third = await w.provider.run(runOf(w), metric(), call());
    expect(third.phase).toBe('Successful');
    expect(proxy.counts()).toEqual({ DescribeListeners: 1, DescribeRules: 1, GetMetricData: 1 });
  });

  it('canary 5xx far above the stable: Failed, naming the check and the numbers, one GetMetricData', async () => {
    const w = await world();
    await publish(w.target, traffic(100, { 0: 9, 1: 11, 2: 10, 3: 12, 4: 8 }), traffic(400, { 2: 1 }));
    proxy.resetCounts();
    const m = await w.provider.run(runOf(w), metric({ maxErrorRateIncrease: 0.01 }), call());
    expect(m.phase).toBe('Failed');
    expect(m.message).toContain('canary failed maxErrorRateIncrease: canary 5xx rate 10 % (50 of 500 requests) > stable 0.05 % (1 of 2000 requests) + maxErrorRateIncrease 1 point = 1.05 %');
    expect(proxy.count('GetMetricData')).toBe(1);
  });

  it('no traffic: Inconclusive, one GetMetricData', async () => {
    const w = await world();
    const m = await w.provider.run(runOf(w), metric(), call());
    expect(m.phase).toBe('Inconclusive');
    expect(m.message).toMatch(/^canary served 0 requests in 5 min/);
    expect(proxy.count('GetMetricData')).toBe(1);
  });

  it('canary weight 0: Inconclusive, with no ELBv2 or CloudWatch call', async () => {
    const w = await world({ weight: 0 });
    await publish(w.target, [], traffic(400));
    proxy.resetCounts();
    const m = await w.provider.run(runOf(w), metric(), call());
    expect(m.phase).toBe('Inconclusive');
    expect(m.message).toMatch(/canary weight of Rollout p\d+\/shop is 0/);
    expect(proxy.total()).toBe(0);
  });

  it('missing owner, bad config, verification off: Error with no AWS call', async () => {
    const w = await world();
    const off = await world({ verificationEnabled: false });
    proxy.resetCounts();

    const orphan = await w.provider.run(runOf(w, []), metric(), call());
    expect(orphan.phase).toBe('Error');
    expect(orphan.message).toMatch(/has no Rollout owner/);

    const bad = await w.provider.run(runOf(w), metric({ maxErrorRate: '5 %' }), call());
    expect(bad.phase).toBe('Error');
    expect(bad.message).toMatch(/^spec\.metrics\[name="alb"\]\.provider\.plugin\["argoproj-labs\/alb-analysis"\]\.maxErrorRate: "5 %" is not a fraction/);

    const noVerify = await off.provider.run(runOf(off), metric(), call());
    expect(noVerify.phase).toBe('Error');
    expect(noVerify.message).toContain('--aws-verify-target-group');

    expect(proxy.total()).toBe(0);
  });
});
