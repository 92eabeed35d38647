// measure() against a real moto_server (5.2.6: the first release that serves the CloudWatch clients' current
// protocols), behind the counting proxy of the ELBv2 tests (it names calls by X-Amz-Target, so GetMetricData is
// counted as such). Load balancers and target groups are created in moto's ELBv2 as the LBC would, so the
// dimensions come from real ARNs; the ALB metrics are published as AWS publishes them (alb-metrics.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createCloudWatch, type CallOutcome, type CloudWatch } from '../../src/analysis/cloudwatch.js';
import { ANALYSIS_DEFAULTS, type AnalysisConfig } from '../../src/analysis/config.js';
import { measure } from '../../src/analysis/measure.js';
import { loadBalancerDimension, targetGroupDimension, type AnalysisTarget } from '../../src/analysis/query.js';
import { queryWindow } from '../../src/analysis/window.js';
import { elbv2Client, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../support/moto.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { createNetwork, seedIngress, type Network } from '../support/lbc-seed.js';
import { cloudwatchClient, loadBalancerDatums, NAMESPACE, putDatums, targetGroupDatums, type MinuteTraffic } from './alb-metrics.js';

let moto: Moto;
let proxy: Elbv2Proxy;
let elbv2: ElasticLoadBalancingV2Client;
let seeder: CloudWatchClient;
let net: Network;
let calls: Array<[string, CallOutcome]>;
let cloudwatch: CloudWatch;
let seq = 0;

// One "now" for the whole file: the window stays put when the wall clock's minute changes during the run.
const NOW = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
const WINDOW = queryWindow(NOW, ANALYSIS_DEFAULTS.lookbackSeconds, ANALYSIS_DEFAULTS.settleDelaySeconds);
/** Minute i of the window (negative: before it; ≥ 5: after it, in the settling time). */
const minute = (i: number) => new Date(WINDOW.start.getTime() + i * 60_000);

const cfg = (c: Partial<AnalysisConfig>): AnalysisConfig => ({ ...ANALYSIS_DEFAULTS, ...c });

interface Rollout {
  target: AnalysisTarget;
}

/** One Ingress's load balancer with a canary and a stable target group, in CloudWatch's dimension forms. */
async function rollout(): Promise<Rollout> {
  const n = `t${++seq}`;
  const s = await seedIngress(elbv2, net, {
    namespace: n, ingress: 'shop', servicePort: 80, services: ['canary', 'stable'], weights: { canary: 20, stable: 80 },
  });
  return {
    target: {
      loadBalancer: loadBalancerDimension(s.lb.arn),
      canaryTargetGroup: targetGroupDimension(s.tgs.canary!.arn),
      stableTargetGroup: targetGroupDimension(s.tgs.stable!.arn),
    },
  };
}

/** `requests` per minute on minutes `from`..`to` of the window, with errors on some minutes. */
function traffic(requests: number, errors: Record<number, number> = {}, latency = 0.05, from = 0, to = 4): MinuteTraffic[] {
  const out: MinuteTraffic[] = [];
  for (let i = from; i <= to; i++) out.push({ at: minute(i), requests, errors: errors[i] ?? 0, latency });
  return out;
}

async function publish(t: AnalysisTarget, canary: MinuteTraffic[], stable: MinuteTraffic[], elb5xx: Record<number, number> = {}): Promise<void> {
  const perMinute = new Map<number, { at: Date; requests: number; elb5xx?: number }>();
  for (const m of [...canary, ...stable]) {
    const e = perMinute.get(m.at.getTime()) ?? { at: m.at, requests: 0 };
    e.requests += m.requests;
    perMinute.set(m.at.getTime(), e);
  }
  for (const [i, n] of Object.entries(elb5xx)) {
    const at = minute(Number(i));
    const e = perMinute.get(at.getTime()) ?? { at, requests: 0 };
    e.elb5xx = n;
    perMinute.set(at.getTime(), e);
  }
  await putDatums(seeder, [
    ...targetGroupDatums(t.loadBalancer, t.canaryTargetGroup, canary),
    ...targetGroupDatums(t.loadBalancer, t.stableTargetGroup, stable),
    ...loadBalancerDatums(t.loadBalancer, [...perMinute.values()]),
  ]);
}

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
beforeEach(() => {
  calls = [];
  proxy.resetCounts();
  cloudwatch = createCloudWatch({
    region: MOTO_REGION,
    endpoint: proxy.endpoint,
    credentials: MOTO_CREDENTIALS,
    rateLimit: 1000,
    rateBurst: 1000,
    onCall: (op, outcome) => calls.push([op, outcome]),
  });
});

describe('measure() against moto', () => {
  it('a healthy canary is Successful, in exactly one GetMetricData call', async () => {
    const { target } = await rollout();
    // The stable has a few errors in two minutes; the canary one; 5xx minutes are otherwise absent.
    await publish(target, traffic(100, { 2: 1 }, 0.052), traffic(400, { 1: 2, 3: 1 }, 0.05));
    proxy.resetCounts();

    const m = await measure(
      { targets: [target], canaryWeight: 20, config: cfg({ maxErrorRate: 0.05, maxErrorRateIncrease: 0.01, maxLatencyIncrease: 0.2 }), now: NOW },
      cloudwatch,
    );
    expect(m.phase).toBe('Successful');
    expect(m.value).toMatchObject({
      window: { start: WINDOW.start.toISOString(), end: WINDOW.end.toISOString(), minutes: 5 },
      canary: { requests: 500, errors: 1, errorRate: 0.002, latencySeconds: 0.052 },
      stable: { requests: 2000, errors: 3, errorRate: 0.0015, latencySeconds: 0.05 },
    });
    expect(m.message).toMatch(/^canary passed 3 checks over 5 min/);
    expect(proxy.counts()).toEqual({ GetMetricData: 1 });
    expect(calls).toEqual([['GetMetricData', 'success']]);
  });

  it('canary 5xx well above the stable is Failed, naming the check and the numbers', async () => {
    const { target } = await rollout();
    await publish(target, traffic(100, { 0: 9, 1: 11, 2: 10, 3: 12, 4: 8 }), traffic(400, { 2: 1 }));
    proxy.resetCounts();

    const m = await measure({ targets: [target], canaryWeight: 20, config: cfg({ maxErrorRateIncrease: 0.01 }), now: NOW }, cloudwatch);
    expect(m.phase).toBe('Failed');
    expect(m.message).toContain('canary failed maxErrorRateIncrease: canary 5xx rate 10 % (50 of 500 requests) > stable 0.05 % (1 of 2000 requests) + maxErrorRateIncrease 1 point = 1.05 %');
    expect(proxy.count('GetMetricData')).toBe(1);
  });

  it('no traffic (nothing published for the target groups) is Inconclusive', async () => {
    const { target } = await rollout();
    const m = await measure({ targets: [target], canaryWeight: 20, config: cfg({ maxErrorRate: 0.01 }), now: NOW }, cloudwatch);
    expect(m.phase).toBe('Inconclusive');
    expect(m.message).toContain('canary served 0 requests');
    expect(m.value).toMatchObject({ canary: { requests: 0, errors: 0 }, stable: { requests: 0 } });
    expect(proxy.count('GetMetricData')).toBe(1);
  });

  it('a canary with weight 0 is Inconclusive even with stable traffic', async () => {
    const { target } = await rollout();
    await publish(target, [], traffic(400));
    const m = await measure({ targets: [target], canaryWeight: 0, config: cfg({ maxErrorRate: 0.01 }), now: NOW }, cloudwatch);
    expect(m.phase).toBe('Inconclusive');
    expect(m.value).toMatchObject({ stable: { requests: 2000 } });
  });

  it('minutes before the window and in the settling time are not counted', async () => {
    const { target } = await rollout();
    // A burst of errors just before the window, and one in the minutes still settling (CloudWatch may not be done).
    await publish(
      target,
      [...traffic(100, { [-1]: 100 }, 0.05, -2, -1), ...traffic(100), ...traffic(100, { 5: 100, 6: 100 }, 0.05, 5, 6)],
      traffic(400, {}, 0.05, -2, 6),
    );
    const m = await measure({ targets: [target], canaryWeight: 20, config: cfg({ maxErrorRate: 0 }), now: NOW }, cloudwatch);
    expect(m.phase).toBe('Successful');
    expect(m.value).toMatchObject({ canary: { requests: 500, errors: 0 }, stable: { requests: 2000 } });
  });

  it('a canary that only started mid-window: missing minutes count as no requests', async () => {
    const { target } = await rollout();
    await publish(target, traffic(30, {}, 0.05, 3, 4), traffic(400));
    const m = await measure({ targets: [target], canaryWeight: 20, config: cfg({ maxErrorRate: 0.01 }), now: NOW }, cloudwatch);
    expect(m.phase).toBe('Successful');
    expect(m.value).toMatchObject({ canary: { requests: 60 } });
    const few = await measure({ targets: [target], canaryWeight: 20, config: cfg({ maxErrorRate: 0.01, minRequests: 61 }), now: NOW }, cloudwatch);
    expect(few.phase).toBe('Inconclusive');
  });

  it('two load balancers: each role summed over both, the ELB 5xx guard per load balancer, still one call', async () => {
    const a = (await rollout()).target;
    const b = (await rollout()).target;
    await publish(a, traffic(50, { 1: 1 }, 0.04), traffic(200, {}, 0.05), { 2: 3 });
    await publish(b, traffic(150, { 3: 2 }, 0.08), traffic(600, {}, 0.05), { 4: 4 });
    proxy.resetCounts();

    const config = cfg({ maxErrorRate: 0.05, maxLatencySeconds: 0.1, maxElb5xxCount: 5 });
    const m = await measure({ targets: [a, b], canaryWeight: 20, config, now: NOW }, cloudwatch);
    expect(proxy.counts()).toEqual({ GetMetricData: 1 });
    expect(m.phase).toBe('Failed');
    expect(m.message).toContain('canary failed maxElb5xxCount: the 2 load balancers answered 7 5xx themselves (HTTPCode_ELB_5XX_Count) > maxElb5xxCount 5');
    expect(m.message).toContain('canary and stable each summed over 2 load balancers');
    expect(m.value).toMatchObject({
      canary: { requests: 1000, errors: 3, errorRate: 0.003, latencySeconds: 0.07 }, // (250×0.04 + 750×0.08) / 1000
      stable: { requests: 4000, errors: 0 },
      elb5xx: 7,
    });

    const relaxed = await measure({ targets: [a, b], canaryWeight: 20, config: { ...config, maxElb5xxCount: 7 }, now: NOW }, cloudwatch);
    expect(relaxed.phase).toBe('Successful');
  });

  it('a CloudWatch that cannot be reached is phase Error with the reason', async () => {
    const dead = createCloudWatch({ region: MOTO_REGION, endpoint: 'http://127.0.0.1:1', credentials: MOTO_CREDENTIALS, rateLimit: 10, rateBurst: 10 });
    const { target } = await rollout();
    const m = await measure({ targets: [target], canaryWeight: 20, config: cfg({ maxErrorRate: 0.01 }), now: NOW }, dead);
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(/^CloudWatch GetMetricData failed/);
  });
});

// What moto 5.2.6 does and does not do with GetMetricData, pinned so that a moto upgrade that changes it shows
// up here (and the comments in src/analysis/query.ts and docs/analysis.md can be revisited).
describe('moto 5.2.6 GetMetricData', () => {
  const dims = (t: AnalysisTarget) => [{ Name: 'LoadBalancer', Value: t.loadBalancer }, { Name: 'TargetGroup', Value: t.canaryTargetGroup }];
  const stat = (t: AnalysisTarget, metric: string, s: string) => ({
    Id: 'q', MetricStat: { Metric: { Namespace: NAMESPACE, MetricName: metric, Dimensions: dims(t) }, Period: 60, Stat: s },
  });

  it('matches dimensions exactly: TargetGroup alone finds nothing', async () => {
    const { target } = await rollout();
    await publish(target, traffic(100), []);
    const out = await seeder.send(new GetMetricDataCommand({
      StartTime: WINDOW.start, EndTime: WINDOW.end,
      MetricDataQueries: [{ Id: 'q', MetricStat: { Metric: { Namespace: NAMESPACE, MetricName: 'RequestCount', Dimensions: [{ Name: 'TargetGroup', Value: target.canaryTargetGroup }] }, Period: 60, Stat: 'Sum' } }],
    }));
    expect(out.MetricDataResults?.[0]?.Values).toEqual([]);
  });

  it('does not round an unaligned StartTime down to the minute (AWS does): its periods start at the odd second', async () => {
    const { target } = await rollout();
    await publish(target, traffic(100), []);
    const out = await seeder.send(new GetMetricDataCommand({
      StartTime: new Date(WINDOW.start.getTime() + 30_000), EndTime: WINDOW.end, ScanBy: 'TimestampAscending',
      MetricDataQueries: [stat(target, 'RequestCount', 'Sum')],
    }));
    const r = out.MetricDataResults![0]!;
    // AWS would answer minutes 0..4 (rounded down); moto starts at :30 and loses minute 0's datapoint.
    expect(r.Timestamps!.map((t) => (t.getTime() - WINDOW.start.getTime()) / 1000)).toEqual([30, 90, 150, 210]);
    expect(r.Values).toEqual([100, 100, 100, 100]);
  });

  it('answers an aligned window with EndTime exclusive and minutes stamped at their start', async () => {
    const { target } = await rollout();
    await publish(target, traffic(100, {}, 0.05, 0, 5), []);
    const out = await seeder.send(new GetMetricDataCommand({
      StartTime: WINDOW.start, EndTime: WINDOW.end, ScanBy: 'TimestampAscending', MetricDataQueries: [stat(target, 'RequestCount', 'Sum')],
    }));
    expect(out.MetricDataResults![0]!.Timestamps).toEqual([0, 1, 2, 3, 4].map(minute));
  });

  it('takes a gzip-compressed PutMetricData (the JS SDK compresses bodies from 10 KiB; here every body)', async () => {
    const { target } = await rollout();
    const gzipping = new CloudWatchClient({
      region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1, requestMinCompressionSizeBytes: 0,
    });
    await putDatums(gzipping, targetGroupDatums(target.loadBalancer, target.canaryTargetGroup, traffic(70)));
    const out = await seeder.send(new GetMetricDataCommand({
      StartTime: WINDOW.start, EndTime: WINDOW.end, MetricDataQueries: [stat(target, 'RequestCount', 'Sum')],
    }));
    expect(out.MetricDataResults![0]!.Values).toEqual([70, 70, 70, 70, 70]);
  });

  it('does not evaluate percentiles (ExtendedStatistic p99): the whole call fails with HTTP 500', async () => {
    const { target } = await rollout();
    await publish(target, traffic(100), []);
    const err = await seeder
      .send(new GetMetricDataCommand({ StartTime: WINDOW.start, EndTime: WINDOW.end, MetricDataQueries: [stat(target, 'TargetResponseTime', 'p99')] }))
      .catch((e: unknown) => e as { $metadata?: { httpStatusCode?: number } });
    expect(err).toBeInstanceOf(Error);
    expect(err.$metadata?.httpStatusCode).toBe(500);
  });
});
