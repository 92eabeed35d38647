// measure() over a CloudWatch stand-in that answers queries from a table keyed like CloudWatch's own store
// (metric name + exact dimensions), publishing only the minutes it has datapoints for.
import { describe, expect, it } from 'vitest';
import type { GetMetricDataCommandInput, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { CloudWatch, MetricDataAnswer } from '../../src/analysis/cloudwatch.js';
import { ANALYSIS_DEFAULTS, type AnalysisConfig } from '../../src/analysis/config.js';
import { describeCloudWatchError, measure } from '../../src/analysis/measure.js';
import type { AnalysisTarget } from '../../src/analysis/query.js';

const LB = 'app/k8s-demo-shop/50dc6c495c0c9188';
const LB2 = 'app/k8s-demo-shop-int/7a1b2c3d4e5f6071';
const CANARY = 'targetgroup/k8s-demo-canary/73e2d6bc24d8a067';
const STABLE = 'targetgroup/k8s-demo-stable/0a1b2c3d4e5f6a7b';
const CANARY2 = 'targetgroup/k8s-demo-canary-int/1111111111111111';
const STABLE2 = 'targetgroup/k8s-demo-stable-int/2222222222222222';
const NOW = new Date('2025-06-01T10:07:30Z'); // window 10:00–10:05 with the defaults
const MINUTE0 = Date.parse('2025-06-01T10:00:00Z');

type Series = Record<number, number>; // minute index → value
type Store = Map<string, Series>;
const key = (metric: string, lb: string, tg?: string) => `${metric} ${lb}${tg ? ` ${tg}` : ''}`;

/** A CloudWatch that answers MetricStat queries from `store`, recording each call. */
function fakeCloudWatch(store: Store, calls: Array<{ input: Omit<GetMetricDataCommandInput, 'NextToken'>; signal?: AbortSignal }> = []): CloudWatch {
  return {
    async getMetricData(input, o): Promise<MetricDataAnswer> {
      calls.push({ input, ...(o?.signal ? { signal: o.signal } : {}) });
      const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
        const dims = Object.fromEntries((q.MetricStat?.Metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
        const series = store.get(key(q.MetricStat!.Metric!.MetricName!, dims.LoadBalancer!, dims.TargetGroup)) ?? {};
        const minutes = Object.keys(series).map(Number);
        return { Id: q.Id, Timestamps: minutes.map((m) => new Date(MINUTE0 + m * 60_000)), Values: minutes.map((m) => series[m]!), StatusCode: 'Complete' };
      });
      return { results, messages: [], pages: 1 };
    },
  };
}

/** `perMinute` requests on every minute of the window, `errors` spread as given. */
function publish(store: Store, lb: string, tg: string, perMinute: number, errors: Series = {}, latency = 0.1): void {
  const all = (v: number): Series => Object.fromEntries([0, 1, 2, 3, 4].map((m) => [m, v]));
  store.set(key('RequestCount', lb, tg), all(perMinute));
  store.set(key('TargetResponseTime', lb, tg), all(latency));
  if (Object.keys(errors).length) store.set(key('HTTPCode_Target_5XX_Count', lb, tg), errors);
}

const cfg = (c: Partial<AnalysisConfig>): AnalysisConfig => ({ ...ANALYSIS_DEFAULTS, ...c });
const one: AnalysisTarget[] = [{ loadBalancer: LB, canaryTargetGroup: CANARY, stableTargetGroup: STABLE }];

describe('measure', () => {
  it('one GetMetricData call with the plan for the window; a healthy canary is Successful', async () => {
    const store: Store = new Map();
    publish(store, LB, CANARY, 100, { 2: 1 });
    publish(store, LB, STABLE, 400, { 1: 2, 3: 1 });
    const calls: Array<{ input: Omit<GetMetricDataCommandInput, 'NextToken'>; signal?: AbortSignal }> = [];
    const ac = new AbortController();
    const m = await measure({ targets: one, canaryWeight: 20, config: cfg({ maxErrorRateIncrease: 0.01 }), now: NOW, signal: ac.signal }, fakeCloudWatch(store, calls));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.signal).toBe(ac.signal);
    expect(calls[0]!.input.StartTime).toEqual(new Date('2025-06-01T10:00:00Z'));
    expect(calls[0]!.input.EndTime).toEqual(new Date('2025-06-01T10:05:00Z'));
    expect(calls[0]!.input.MetricDataQueries).toHaveLength(6);
    expect(m.phase).toBe('Successful');
    expect(m.message).toContain('canary 5xx rate 0.2 % (1 of 500 requests) ≤ stable 0.15 % (3 of 2000 requests) + maxErrorRateIncrease 1 point');
    expect(m.value).toMatchObject({
      canaryWeight: 20,
      loadBalancers: ['k8s-demo-shop'],
      canary: { targetGroups: ['k8s-demo-canary'], requests: 500, errors: 1 },
      stable: { targetGroups: ['k8s-demo-stable'], requests: 2000, errors: 3 },
    });
  });

  it('canary 5xx well above the stable: Failed', async () => {
    const store: Store = new Map();
    publish(store, LB, CANARY, 100, { 0: 10, 1: 12, 2: 9, 3: 11, 4: 8 });
    publish(store, LB, STABLE, 400, { 4: 1 });
    const m = await measure({ targets: one, canaryWeight: 20, config: cfg({ maxErrorRateIncrease: 0.01 }), now: NOW }, fakeCloudWatch(store));
    expect(m.phase).toBe('Failed');
    expect(m.message).toMatch(/^canary failed maxErrorRateIncrease: canary 5xx rate 10 % \(50 of 500 requests\) > stable 0.05 % \(1 of 2000 requests\)/);
  });

  it('no datapoints at all (no traffic): Inconclusive after one call', async () => {
    const calls: Array<{ input: Omit<GetMetricDataCommandInput, 'NextToken'> }> = [];
    const m = await measure({ targets: one, canaryWeight: 20, config: cfg({ maxErrorRate: 0.01 }), now: NOW }, fakeCloudWatch(new Map(), calls));
    expect(calls).toHaveLength(1);
    expect(m.phase).toBe('Inconclusive');
    expect(m.message).toContain('canary served 0 requests');
  });

  it('several load balancers: both roles summed, one call, the guard once per load balancer', async () => {
    const store: Store = new Map();
    publish(store, LB, CANARY, 20, { 0: 1 }, 0.1);
    publish(store, LB, STABLE, 80, {}, 0.1);
    publish(store, LB2, CANARY2, 60, { 1: 2 }, 0.3);
    publish(store, LB2, STABLE2, 240, {}, 0.1);
    store.set(key('HTTPCode_ELB_5XX_Count', LB), { 0: 2 });
    store.set(key('HTTPCode_ELB_5XX_Count', LB2), { 3: 1 });
    const calls: Array<{ input: Omit<GetMetricDataCommandInput, 'NextToken'> }> = [];
    const targets: AnalysisTarget[] = [...one, { loadBalancer: LB2, canaryTargetGroup: CANARY2, stableTargetGroup: STABLE2 }];
    const m = await measure({ targets, canaryWeight: 20, config: cfg({ maxErrorRate: 0.05, maxLatencySeconds: 0.3, maxElb5xxCount: 5 }), now: NOW }, fakeCloudWatch(store, calls));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.input.MetricDataQueries).toHaveLength(4 * 3 + 2);
    expect(m.phase).toBe('Successful');
    expect(m.value).toMatchObject({
      loadBalancers: ['k8s-demo-shop', 'k8s-demo-shop-int'],
      canary: { targetGroups: ['k8s-demo-canary', 'k8s-demo-canary-int'], requests: 400, errors: 3, errorRate: 0.0075, latencySeconds: 0.25 },
      stable: { targetGroups: ['k8s-demo-stable', 'k8s-demo-stable-int'], requests: 1600, errors: 0 },
      elb5xx: 3,
    });
    expect(m.message).toContain('canary and stable each summed over 2 load balancers');
  });

  it('ARNs from discovery work as well as dimension forms', async () => {
    const store: Store = new Map();
    publish(store, LB, CANARY, 100);
    publish(store, LB, STABLE, 100);
    const arn = 'arn:aws:elasticloadbalancing:us-west-2:123456789012';
    const m = await measure(
      { targets: [{ loadBalancer: `${arn}:loadbalancer/${LB}`, canaryTargetGroup: `${arn}:${CANARY}`, stableTargetGroup: `${arn}:${STABLE}` }], config: cfg({ maxErrorRate: 0 }), now: NOW },
      fakeCloudWatch(store),
    );
    expect(m.phase).toBe('Successful');
    expect(m.value?.canaryWeight).toBeNull();
  });

  it('unusable targets: Error without a call', async () => {
    const calls: Array<{ input: Omit<GetMetricDataCommandInput, 'NextToken'> }> = [];
    const m = await measure({ targets: [], config: cfg({ maxErrorRate: 0 }), now: NOW }, fakeCloudWatch(new Map(), calls));
    expect(m).toEqual({ phase: 'Error', message: 'no load balancer and target groups to measure', value: null });
    expect(calls).toHaveLength(0);
  });

  it.each<[string, unknown, string]>([
    ['throttled to the end', Object.assign(new Error('CloudWatch GetMetricData was throttled 6 times in a row (Rate exceeded); giving up for now'), { name: 'CloudWatchThrottledError' }),
      'CloudWatch GetMetricData failed: CloudWatch GetMetricData was throttled 6 times in a row'],
    ['access denied', Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDeniedException', Code: 'AccessDenied', $metadata: { httpStatusCode: 400 } }),
      "CloudWatch GetMetricData was refused (AccessDenied): the sidecar's role needs cloudwatch:GetMetricData; User is not authorized"],
    ['another service error', Object.assign(new Error('The parameter StartTime must not equal parameter EndTime.'), { name: 'InvalidParameterValueException', $metadata: { httpStatusCode: 400 } }),
      'CloudWatch GetMetricData failed (InvalidParameterValue): The parameter StartTime'],
    ['a network error', new Error('connect ECONNREFUSED 127.0.0.1:1'), 'CloudWatch GetMetricData failed: connect ECONNREFUSED'],
  ])('%s: Error with the reason', async (_name, err, message) => {
    const cw: CloudWatch = { getMetricData: async () => Promise.reject(err) };
    const m = await measure({ targets: one, canaryWeight: 20, config: cfg({ maxErrorRate: 0 }), now: NOW }, cw);
    expect(m.phase).toBe('Error');
    expect(m.message).toContain(message);
    expect(m.value).toBeNull();
    expect(describeCloudWatchError(err)).toBe(m.message);
  });

  it('an answer missing a query: Error, never a quiet minute', async () => {
    const cw: CloudWatch = { getMetricData: async () => ({ results: [], messages: [], pages: 1 }) };
    const m = await measure({ targets: one, canaryWeight: 20, config: cfg({ maxErrorRate: 0 }), now: NOW }, cw);
    expect(m.phase).toBe('Error');
    expect(m.message).toContain('CloudWatch answered without 6 of the 6 queries');
  });

  it("the caller's abort is thrown, not turned into a measurement", async () => {
    const ac = new AbortController();
    const cw: CloudWatch = {
      getMetricData: async () => {
        ac.abort(new Error('RPC deadline'));
        throw new Error('RPC deadline');
      },
    };
    await expect(measure({ targets: one, config: cfg({ maxErrorRate: 0 }), now: NOW, signal: ac.signal }, cw)).rejects.toThrow('RPC deadline');
  });
});
