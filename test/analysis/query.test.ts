import { describe, expect, it } from 'vitest';
import type { MetricDataResult } from '@aws-sdk/client-cloudwatch';
import {
  ALB_NAMESPACE,
  buildMetricQueries,
  dimensionName,
  elb5xxTotal,
  loadBalancerDimension,
  MAX_QUERIES_PER_CALL,
  MetricQueryError,
  parseMetricResults,
  seriesTotals,
  targetGroupDimension,
  type AnalysisTarget,
  type TargetGroupSeries,
} from '../../src/analysis/query.js';
import { queryWindow } from '../../src/analysis/window.js';

const LB = 'app/k8s-demo-shop-0123456789/50dc6c495c0c9188';
const LB2 = 'app/k8s-demo-shop-internal/7a1b2c3d4e5f6071';
const CANARY = 'targetgroup/k8s-demo-canary-8080/73e2d6bc24d8a067';
const STABLE = 'targetgroup/k8s-demo-stable-8080/0a1b2c3d4e5f6a7b';
const CANARY2 = 'targetgroup/k8s-demo-canary-int/1111111111111111';
const STABLE2 = 'targetgroup/k8s-demo-stable-int/2222222222222222';
const ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012';

const WINDOW = queryWindow(new Date('2025-06-01T10:07:00Z'), 300, 120); // 10:00–10:05
const minute = (i: number) => new Date(WINDOW.start.getTime() + i * 60_000);
const target: AnalysisTarget = { loadBalancer: LB, canaryTargetGroup: CANARY, stableTargetGroup: STABLE };

describe('dimension forms', () => {
  it.each<[string, string]>([
    [`${ARN}:loadbalancer/${LB}`, LB],
    [LB, LB],
    [`arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:loadbalancer/${LB}`, LB],
    [`arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/${LB}`, LB],
  ])('load balancer %s → %s', (input, dim) => {
    expect(loadBalancerDimension(input)).toBe(dim);
  });

  it.each<[string, string]>([
    [`${ARN}:${CANARY}`, CANARY],
    [CANARY, CANARY],
  ])('target group %s → %s', (input, dim) => {
    expect(targetGroupDimension(input)).toBe(dim);
  });

  it.each<[string, (s: string) => string, string]>([
    ['a network load balancer', loadBalancerDimension, `${ARN}:loadbalancer/net/my-nlb/50dc6c495c0c9188`],
    ['a load balancer name alone', loadBalancerDimension, 'k8s-demo-shop-0123456789'],
    ['a target group given as the load balancer', loadBalancerDimension, CANARY],
    ['a listener ARN', loadBalancerDimension, `${ARN}:listener/${LB}/f2f7dc8efc522ab2`],
    ['an empty string', loadBalancerDimension, ''],
    ['a load balancer given as the target group', targetGroupDimension, `${ARN}:loadbalancer/${LB}`],
    ['a target group name alone', targetGroupDimension, 'k8s-demo-canary-8080'],
    ['a target group with an upper-case id', targetGroupDimension, 'targetgroup/x/ABCDEF'],
  ])('refuses %s', (_name, fn, input) => {
    expect(() => fn(input)).toThrow(MetricQueryError);
  });

  it('names: the middle part', () => {
    expect(dimensionName(LB)).toBe('k8s-demo-shop-0123456789');
    expect(dimensionName(CANARY)).toBe('k8s-demo-canary-8080');
  });
});

describe('buildMetricQueries', () => {
  it('one load balancer: three MetricStat queries per target group, both dimensions, 60-s periods, aligned window', () => {
    const plan = buildMetricQueries([target], WINDOW, { elb5xx: false });
    expect(plan.input.StartTime).toEqual(new Date('2025-06-01T10:00:00Z'));
    expect(plan.input.EndTime).toEqual(new Date('2025-06-01T10:05:00Z'));
    expect(plan.input.ScanBy).toBe('TimestampAscending');
    expect(plan.series).toEqual([
      { loadBalancer: LB, targetGroup: CANARY, role: 'canary' },
      { loadBalancer: LB, targetGroup: STABLE, role: 'stable' },
    ]);
    expect(plan.elb5xxLoadBalancers).toEqual([]);
    expect(plan.input.MetricDataQueries.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat])).toEqual([
      ['tg0_requests', 'RequestCount', 'Sum'],
      ['tg0_errors', 'HTTPCode_Target_5XX_Count', 'Sum'],
      ['tg0_latency', 'TargetResponseTime', 'Average'],
      ['tg1_requests', 'RequestCount', 'Sum'],
      ['tg1_errors', 'HTTPCode_Target_5XX_Count', 'Sum'],
      ['tg1_latency', 'TargetResponseTime', 'Average'],
    ]);
    expect(plan.input.MetricDataQueries[0]).toEqual({
      Id: 'tg0_requests',
      MetricStat: {
        Metric: {
          Namespace: ALB_NAMESPACE,
          MetricName: 'RequestCount',
          Dimensions: [{ Name: 'LoadBalancer', Value: LB }, { Name: 'TargetGroup', Value: CANARY }],
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
    expect(plan.refs.get('tg1_errors')).toEqual({ metric: 'HTTPCode_Target_5XX_Count', series: 1 });
  });

  it('ids are valid CloudWatch ids and unique', () => {
    const targets = Array.from({ length: 20 }, (_, i) => ({
      loadBalancer: `app/lb${i}/${(i + 1).toString(16).padStart(16, '0')}`,
      canaryTargetGroup: `targetgroup/c${i}/${(i + 1).toString(16).padStart(16, 'a')}`,
      stableTargetGroup: `targetgroup/s${i}/${(i + 1).toString(16).padStart(16, 'b')}`,
    }));
    const plan = buildMetricQueries(targets, WINDOW, { elb5xx: true });
    const ids = plan.input.MetricDataQueries.map((q) => q.Id!);
    expect(ids.every((id) => /^[a-z][a-zA-Z0-9_]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(20 * 6 + 20);
  });

  it('several load balancers, ARNs accepted, the guard asks once per load balancer', () => {
    const plan = buildMetricQueries(
      [
        { loadBalancer: `${ARN}:loadbalancer/${LB}`, canaryTargetGroup: `${ARN}:${CANARY}`, stableTargetGroup: `${ARN}:${STABLE}` },
        { loadBalancer: LB2, canaryTargetGroup: CANARY2, stableTargetGroup: STABLE2 },
        // A second Ingress of the same group on the first load balancer, with its own target groups.
        { loadBalancer: LB, canaryTargetGroup: 'targetgroup/c3/3333333333333333', stableTargetGroup: 'targetgroup/s3/4444444444444444' },
      ],
      WINDOW,
      { elb5xx: true },
    );
    expect(plan.series.map((s) => [dimensionName(s.loadBalancer), dimensionName(s.targetGroup), s.role])).toEqual([
      ['k8s-demo-shop-0123456789', 'k8s-demo-canary-8080', 'canary'],
      ['k8s-demo-shop-0123456789', 'k8s-demo-stable-8080', 'stable'],
      ['k8s-demo-shop-internal', 'k8s-demo-canary-int', 'canary'],
      ['k8s-demo-shop-internal', 'k8s-demo-stable-int', 'stable'],
      ['k8s-demo-shop-0123456789', 'c3', 'canary'],
      ['k8s-demo-shop-0123456789', 's3', 'stable'],
    ]);
    expect(plan.elb5xxLoadBalancers).toEqual([LB, LB2]);
    const elb = plan.input.MetricDataQueries.filter((q) => q.Id!.startsWith('lb'));
    expect(elb.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Metric?.Dimensions])).toEqual([
      ['lb0_elb5xx', 'HTTPCode_ELB_5XX_Count', 'Sum', [{ Name: 'LoadBalancer', Value: LB }]],
      ['lb1_elb5xx', 'HTTPCode_ELB_5XX_Count', 'Sum', [{ Name: 'LoadBalancer', Value: LB2 }]],
    ]);
  });

  it('the same pair listed twice is queried once', () => {
    const plan = buildMetricQueries([target, { ...target }], WINDOW, { elb5xx: true });
    expect(plan.series).toHaveLength(2);
    expect(plan.input.MetricDataQueries).toHaveLength(7);
  });

  it('the same canary target group behind two stables on one load balancer is one canary series', () => {
    const plan = buildMetricQueries([target, { ...target, stableTargetGroup: STABLE2 }], WINDOW, { elb5xx: false });
    expect(plan.series.map((s) => s.role)).toEqual(['canary', 'stable', 'stable']);
  });

  it('exactly at the 500-query limit is one call; one more is refused with a message that says why', () => {
    // 83 target sets = 166 target groups × 3 = 498 queries, + 2 load balancers' guard = 500.
    const mk = (n: number, lbs: number): AnalysisTarget[] =>
      Array.from({ length: n }, (_, i) => ({
        loadBalancer: `app/lb${i % lbs}/${(i % lbs).toString(16).padStart(16, '0')}`,
        canaryTargetGroup: `targetgroup/c${i}/${i.toString(16).padStart(16, 'a')}`,
        stableTargetGroup: `targetgroup/s${i}/${i.toString(16).padStart(16, 'b')}`,
      }));
    expect(buildMetricQueries(mk(83, 2), WINDOW, { elb5xx: true }).input.MetricDataQueries).toHaveLength(MAX_QUERIES_PER_CALL);
    expect(() => buildMetricQueries(mk(83, 3), WINDOW, { elb5xx: true })).toThrow(
      /166 target groups on 3 load balancers need 501 CloudWatch queries, more than the 500 one GetMetricData call takes/,
    );
  });

  it.each<[string, AnalysisTarget[], RegExp]>([
    ['no targets', [], /no load balancer and target groups to measure/],
    ['canary = stable', [{ loadBalancer: LB, canaryTargetGroup: CANARY, stableTargetGroup: CANARY }], /same target group .* nothing to compare/],
    ['a target group in both roles', [target, { loadBalancer: LB, canaryTargetGroup: STABLE, stableTargetGroup: STABLE2 }], /listed both as canary and as stable/],
    ['a bad load balancer', [{ ...target, loadBalancer: 'shop' }], /"shop" is not an Application Load Balancer/],
    ['a bad target group', [{ ...target, stableTargetGroup: 'stable' }], /"stable" is not a target group/],
  ])('refuses %s', (_name, targets, message) => {
    expect(() => buildMetricQueries(targets, WINDOW, { elb5xx: false })).toThrow(message);
  });
});

/** A MetricDataResult as CloudWatch returns it: only minutes with a datapoint. */
function result(id: string, points: Array<[number, number]>, status: MetricDataResult['StatusCode'] = 'Complete'): MetricDataResult {
  return { Id: id, Label: id, Timestamps: points.map(([i]) => minute(i)), Values: points.map(([, v]) => v), StatusCode: status };
}

/** Every query of the plan answered with no datapoints, then `answers` on top. */
function answer(plan: ReturnType<typeof buildMetricQueries>, answers: MetricDataResult[]): MetricDataResult[] {
  const given = new Set(answers.map((a) => a.Id));
  return [...[...plan.refs.keys()].filter((id) => !given.has(id)).map((id) => result(id, [])), ...answers];
}

describe('parseMetricResults: per-minute series', () => {
  const plan = buildMetricQueries([target], WINDOW, { elb5xx: true });

  it('missing minutes are zero for counts, no sample for latency', () => {
    const parsed = parseMetricResults(plan, answer(plan, [
      result('tg0_requests', [[0, 100], [1, 120], [3, 80]]), // minute 2 and 4: no requests
      result('tg0_errors', [[1, 3]]), // only the minute with errors is published
      result('tg0_latency', [[0, 0.1], [1, 0.2], [3, 0.4]]),
      result('tg1_requests', [[0, 500], [1, 500], [2, 500], [3, 500], [4, 500]]),
      result('lb0_elb5xx', [[4, 2]]),
    ]));
    expect(parsed.series[0]).toEqual({
      loadBalancer: LB, targetGroup: CANARY, role: 'canary',
      requests: [100, 120, 0, 80, 0],
      errors: [0, 3, 0, 0, 0],
      latency: [0.1, 0.2, null, 0.4, null],
    });
    expect(parsed.series[1]!.errors).toEqual([0, 0, 0, 0, 0]); // 5xx absent everywhere = no errors
    expect(parsed.series[1]!.latency).toEqual([null, null, null, null, null]);
    expect(parsed.elb5xx.get(LB)).toEqual([0, 0, 0, 0, 2]);
    expect(elb5xxTotal(parsed)).toBe(2);
  });

  it('order does not matter (CloudWatch defaults to TimestampDescending)', () => {
    const asc = parseMetricResults(plan, answer(plan, [result('tg0_requests', [[0, 1], [1, 2], [2, 3]])]));
    const desc = parseMetricResults(plan, answer(plan, [result('tg0_requests', [[2, 3], [1, 2], [0, 1]])]));
    expect(desc.series).toEqual(asc.series);
  });

  it('pages: an id repeated on later pages adds its minutes; a minute seen twice counts once; the last status wins', () => {
    const parsed = parseMetricResults(plan, answer(plan, [
      result('tg0_requests', [[0, 10], [1, 20]], 'PartialData'),
      result('tg0_requests', [[1, 20], [2, 30]], 'Complete'),
    ]));
    expect(parsed.series[0]!.requests).toEqual([10, 20, 30, 0, 0]);
  });

  it('datapoints outside the window, unaligned ones and unusable values are left out', () => {
    const outside: MetricDataResult = {
      Id: 'tg0_requests',
      Timestamps: [new Date(WINDOW.start.getTime() - 1), WINDOW.end, minute(2), minute(3), minute(4), new Date(minute(1).getTime() + 30_000)],
      Values: [999, 999, Number.NaN, -5, Number.POSITIVE_INFINITY, 7],
      StatusCode: 'Complete',
    };
    const parsed = parseMetricResults(plan, answer(plan, [outside]));
    expect(parsed.series[0]!.requests).toEqual([0, 7, 0, 0, 0]);
  });

  it('Timestamps and Values of different lengths: only the pairs', () => {
    const parsed = parseMetricResults(plan, answer(plan, [{ Id: 'tg0_requests', Timestamps: [minute(0), minute(1)], Values: [5], StatusCode: 'Complete' }]));
    expect(parsed.series[0]!.requests).toEqual([5, 0, 0, 0, 0]);
  });

  it('results for ids that are not ours are ignored', () => {
    const parsed = parseMetricResults(plan, answer(plan, [result('someone_else', [[0, 1]]), { Values: [1] }]));
    expect(parsed.series[0]!.requests).toEqual([0, 0, 0, 0, 0]);
  });

  it.each<[string, MetricDataResult[], RegExp]>([
    ['a query that never came back', [], /CloudWatch answered without 7 of the 7 queries \(tg0_requests, tg0_errors, tg0_latency, …\)/],
    ['InternalError', [result('tg1_latency', [], 'InternalError')], /could not read TargetResponseTime of targetgroup\/k8s-demo-stable-8080\/.* \(InternalError\); the next measurement asks again/],
    ['Forbidden', [result('lb0_elb5xx', [], 'Forbidden')], /refused to read HTTPCode_ELB_5XX_Count of app\/k8s-demo-shop.* needs cloudwatch:GetMetricData/],
  ])('%s is an error, never a quiet minute', (_name, answers, message) => {
    const results = answers.length ? answer(plan, answers) : [];
    expect(() => parseMetricResults(plan, results)).toThrow(message);
  });
});

describe('seriesTotals: counts summed, latency weighted by the minute\'s requests', () => {
  const s = (requests: number[], errors: number[], latency: Array<number | null>): TargetGroupSeries => ({
    loadBalancer: LB, targetGroup: CANARY, role: 'canary', requests, errors, latency,
  });
  it.each<[string, TargetGroupSeries, { requests: number; errors: number; latencySum: number; latencyWeight: number }]>([
    ['no data at all', s([0, 0, 0], [0, 0, 0], [null, null, null]), { requests: 0, errors: 0, latencySum: 0, latencyWeight: 0 }],
    ['steady', s([100, 100], [1, 0], [0.1, 0.1]), { requests: 200, errors: 1, latencySum: 20, latencyWeight: 200 }],
    ['a busy slow minute weighs more', s([900, 100], [0, 0], [0.5, 0.1]), { requests: 1000, errors: 0, latencySum: 460, latencyWeight: 1000 }],
    ['a minute with requests but no latency datapoint is out of the mean only', s([100, 100], [0, 0], [0.2, null]), { requests: 200, errors: 0, latencySum: 20, latencyWeight: 100 }],
    ['a latency without a RequestCount datapoint weighs nothing', s([0, 100], [0, 0], [9, 0.1]), { requests: 100, errors: 0, latencySum: 10, latencyWeight: 100 }],
  ])('%s', (_name, series, want) => {
    const t = seriesTotals(series);
    expect(t.requests).toBe(want.requests);
    expect(t.errors).toBe(want.errors);
    expect(t.latencySum).toBeCloseTo(want.latencySum, 9);
    expect(t.latencyWeight).toBe(want.latencyWeight);
  });
});
