// One GetMetricData request for a whole measurement, and the reading of its answer. Pure.
//
// Per (load balancer, target group) pair three MetricStat queries: RequestCount Sum, HTTPCode_Target_5XX_Count Sum
// and TargetResponseTime Average; per load balancer one HTTPCode_ELB_5XX_Count Sum when the guard is on. The
// target-group metrics carry the dimensions {LoadBalancer, TargetGroup} and CloudWatch matches dimensions exactly:
// a query on TargetGroup alone finds nothing, so every query names both. HTTPCode_ELB_5XX_Count exists per load
// balancer only. MetricStat only, no metric math: CloudWatch would evaluate FILL() and ratios for us, but moto
// (the tests' CloudWatch) evaluates none, and summing here is as cheap and as exact. No percentiles either
// (Stat "p99"): moto 5.2.6 fails the whole GetMetricData call with HTTP 500 when one query asks for one
// (pinned in test/analysis/cloudwatch.moto.test.ts), so an optional percentile could not be tested here; and a
// p99 per minute cannot be summed across minutes or target groups into the window's p99 anyway (only bounded).
//
// Reading the answer: CloudWatch returns a datapoint only for minutes that had one. RequestCount is published
// only while requests flow and the 5xx counts only in minutes with a 5xx, so a minute missing from a count series
// is a zero. A missing TargetResponseTime minute is no sample: it is left out of the weighted mean.

import type { GetMetricDataCommandInput, MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { TargetGroupTotals } from './totals.js';
import { minuteIndex, PERIOD_SECONDS, type QueryWindow } from './window.js';

export const ALB_NAMESPACE = 'AWS/ApplicationELB';
/** CloudWatch's limit on MetricDataQueries per GetMetricData call. */
export const MAX_QUERIES_PER_CALL = 500;

/** One load balancer with the canary's and the stable's target group on it, in CloudWatch's dimension forms. */
export interface AnalysisTarget {
  /** `app/<name>/<id>`: the tail of the load balancer's ARN. */
  loadBalancer: string;
  /** `targetgroup/<name>/<id>`: the tail of the target group's ARN. */
  canaryTargetGroup: string;
  stableTargetGroup: string;
}

export type TargetGroupMetric = 'RequestCount' | 'HTTPCode_Target_5XX_Count' | 'TargetResponseTime';
export type LoadBalancerMetric = 'HTTPCode_ELB_5XX_Count';

/** What a query id stands for. */
export type QueryRef =
  | { metric: TargetGroupMetric; series: number }
  | { metric: LoadBalancerMetric; loadBalancer: number };

export interface SeriesKey {
  loadBalancer: string;
  targetGroup: string;
  /** A target group is the canary's or the stable's, never both (buildMetricQueries refuses that). */
  role: 'canary' | 'stable';
}

export interface MetricQueryPlan {
  window: QueryWindow;
  /** The distinct (load balancer, target group) pairs, in first-seen order; `series` in a QueryRef indexes this. */
  series: SeriesKey[];
  /** The distinct load balancers whose HTTPCode_ELB_5XX_Count is asked for (empty when the guard is off). */
  elb5xxLoadBalancers: string[];
  /** The request, ready for the client (without NextToken). */
  input: GetMetricDataCommandInput & { MetricDataQueries: MetricDataQuery[] };
  refs: ReadonlyMap<string, QueryRef>;
}

/** A target or an answer the analysis cannot use; a measurement turns it into phase Error with this message. */
export class MetricQueryError extends Error {
  override name = 'MetricQueryError';
}

const ARN_TAIL = /^arn:aws[a-z-]*:elasticloadbalancing:[^:]*:[^:]*:(?:loadbalancer\/)?(.*)$/;
const LB_DIMENSION = /^app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
const TG_DIMENSION = /^targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;

/**
 * The LoadBalancer dimension, `app/<name>/<id>`, from a load balancer ARN or from the dimension itself. Network
 * load balancers (`net/...`) publish to AWS/NetworkELB with other metrics and are refused.
 */
export function loadBalancerDimension(arnOrDimension: string): string {
  const tail = ARN_TAIL.exec(arnOrDimension)?.[1] ?? arnOrDimension;
  if (!LB_DIMENSION.test(tail)) {
    throw new MetricQueryError(
      `${JSON.stringify(arnOrDimension)} is not an Application Load Balancer (want its ARN or app/<name>/<id>)`,
    );
  }
  return tail;
}

/** The TargetGroup dimension, `targetgroup/<name>/<id>`, from a target group ARN or from the dimension itself. */
export function targetGroupDimension(arnOrDimension: string): string {
  const tail = ARN_TAIL.exec(arnOrDimension)?.[1] ?? arnOrDimension;
  if (!TG_DIMENSION.test(tail)) {
    throw new MetricQueryError(`${JSON.stringify(arnOrDimension)} is not a target group (want its ARN or targetgroup/<name>/<id>)`);
  }
  return tail;
}

/** `k8s-demo-shop-0123456789` from `app/k8s-demo-shop-0123456789/50dc6c495c0c9188`: what messages show. */
export function dimensionName(dimension: string): string {
  return dimension.split('/')[1] ?? dimension;
}

const TG_METRICS: ReadonlyArray<[TargetGroupMetric, string, string]> = [
  ['RequestCount', 'Sum', 'requests'],
  ['HTTPCode_Target_5XX_Count', 'Sum', 'errors'],
  ['TargetResponseTime', 'Average', 'latency'],
];

const seriesId = (key: Omit<SeriesKey, 'role'>) => `${key.loadBalancer} ${key.targetGroup}`;

export function buildMetricQueries(
  targets: readonly AnalysisTarget[],
  window: QueryWindow,
  opts: { elb5xx: boolean },
): MetricQueryPlan {
  if (targets.length === 0) throw new MetricQueryError('no load balancer and target groups to measure');
  const series: SeriesKey[] = [];
  // The same pair listed twice (two Ingresses of one group) is queried and counted once.
  const roles = new Map<string, 'canary' | 'stable'>();
  const lbs: string[] = [];
  for (const t of targets) {
    const loadBalancer = loadBalancerDimension(t.loadBalancer);
    const canary = targetGroupDimension(t.canaryTargetGroup);
    const stable = targetGroupDimension(t.stableTargetGroup);
    if (canary === stable) {
      throw new MetricQueryError(`canary and stable are the same target group ${canary} on ${loadBalancer}: nothing to compare`);
    }
    for (const [targetGroup, role] of [[canary, 'canary'], [stable, 'stable']] as const) {
      const key = { loadBalancer, targetGroup, role };
      const had = roles.get(seriesId(key));
      if (had === role) continue;
      if (had !== undefined) {
        throw new MetricQueryError(`target group ${targetGroup} on ${loadBalancer} is listed both as canary and as stable`);
      }
      roles.set(seriesId(key), role);
      series.push(key);
    }
    if (opts.elb5xx && !lbs.includes(loadBalancer)) lbs.push(loadBalancer);
  }

  const total = series.length * TG_METRICS.length + lbs.length;
  if (total > MAX_QUERIES_PER_CALL) {
    // ~80 load balancers per Rollout: far beyond any real one, so refusing beats splitting into several calls.
    throw new MetricQueryError(
      `${series.length} target groups on ${new Set(series.map((s) => s.loadBalancer)).size} load balancers need ${total} CloudWatch queries, ` +
        `more than the ${MAX_QUERIES_PER_CALL} one GetMetricData call takes; measure fewer load balancers per metric`,
    );
  }

  // Ids must match ^[a-z][a-zA-Z0-9_]*$ and be unique in the call; an index keeps them short and mappable.
  const queries: MetricDataQuery[] = [];
  const refs = new Map<string, QueryRef>();
  series.forEach((key, i) => {
    for (const [metric, stat, suffix] of TG_METRICS) {
      const id = `tg${i}_${suffix}`;
      refs.set(id, { metric, series: i });
      queries.push({
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: ALB_NAMESPACE,
            MetricName: metric,
            Dimensions: [
              { Name: 'LoadBalancer', Value: key.loadBalancer },
              { Name: 'TargetGroup', Value: key.targetGroup },
            ],
          },
          Period: PERIOD_SECONDS,
          Stat: stat,
        },
        ReturnData: true,
      });
    }
  });
  lbs.forEach((loadBalancer, j) => {
    const id = `lb${j}_elb5xx`;
    refs.set(id, { metric: 'HTTPCode_ELB_5XX_Count', loadBalancer: j });
    queries.push({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: ALB_NAMESPACE,
          MetricName: 'HTTPCode_ELB_5XX_Count',
          Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancer }],
        },
        Period: PERIOD_SECONDS,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
  });

  return {
    window,
    series,
    elb5xxLoadBalancers: lbs,
    // StartTime and EndTime are minute-aligned (window.ts): CloudWatch rounds an unaligned StartTime down, moto
    // does not (its periods then start at the odd second), so aligned times read the same minutes on both.
    input: { StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending', MetricDataQueries: queries },
    refs,
  };
}

/** One (load balancer, target group) pair minute by minute; index 0 is the window's first minute. */
export interface TargetGroupSeries extends SeriesKey {
  /** RequestCount per minute; a minute without a datapoint is 0. */
  requests: number[];
  /** HTTPCode_Target_5XX_Count per minute; a minute without a datapoint is 0 (CloudWatch omits error-free minutes). */
  errors: number[];
  /** TargetResponseTime Average per minute, null where CloudWatch had no datapoint. */
  latency: Array<number | null>;
}

export interface ParsedMetrics {
  series: TargetGroupSeries[];
  /** HTTPCode_ELB_5XX_Count per minute per load balancer (0 where absent), for the ones in the plan. */
  elb5xx: Map<string, number[]>;
}

/**
 * Reads the MetricDataResults of every page of the answer. A query id that never came back, or came back with
 * StatusCode InternalError or Forbidden, is a MetricQueryError: a measurement must not judge on a hole it
 * cannot tell from a quiet minute.
 */
export function parseMetricResults(plan: MetricQueryPlan, results: readonly MetricDataResult[]): ParsedMetrics {
  const n = plan.window.minutes;
  const series: TargetGroupSeries[] = plan.series.map((key) => ({
    ...key,
    requests: new Array<number>(n).fill(0),
    errors: new Array<number>(n).fill(0),
    latency: new Array<number | null>(n).fill(null),
  }));
  const elb5xx = new Map(plan.elb5xxLoadBalancers.map((lb) => [lb, new Array<number>(n).fill(0)]));
  const status = new Map<string, string | undefined>();

  for (const r of results) {
    const ref = r.Id === undefined ? undefined : plan.refs.get(r.Id);
    if (!ref || r.Id === undefined) continue; // Not ours (a query id of another caller would be a bug upstream).
    // A paginated answer repeats an id on later pages; the last page's status is the id's final one.
    status.set(r.Id, r.StatusCode);
    const ts = r.Timestamps ?? [];
    const vs = r.Values ?? [];
    for (let k = 0; k < Math.min(ts.length, vs.length); k++) {
      const i = minuteIndex(plan.window, ts[k]!);
      const v = vs[k]!;
      // Outside the window (an unaligned answer) or not a usable number: no datapoint.
      if (i === undefined || !Number.isFinite(v) || v < 0) continue;
      if (ref.metric === 'HTTPCode_ELB_5XX_Count') {
        elb5xx.get(plan.elb5xxLoadBalancers[ref.loadBalancer]!)![i] = v;
        continue;
      }
      const s = series[ref.series]!;
      // Assignment, not addition: the same minute on two pages is one datapoint.
      if (ref.metric === 'RequestCount') s.requests[i] = v;
      else if (ref.metric === 'HTTPCode_Target_5XX_Count') s.errors[i] = v;
      else s.latency[i] = v;
    }
  }

  const missing = [...plan.refs.keys()].filter((id) => !status.has(id));
  if (missing.length > 0) {
    throw new MetricQueryError(`CloudWatch answered without ${missing.length} of the ${plan.refs.size} queries (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`);
  }
  const failed = [...status].filter(([, code]) => code === 'InternalError' || code === 'Forbidden');
  if (failed.length > 0) {
    const [id, code] = failed[0]!;
    const what = describeRef(plan, plan.refs.get(id)!);
    throw new MetricQueryError(
      code === 'Forbidden'
        ? `CloudWatch refused to read ${what} (Forbidden): the sidecar's role needs cloudwatch:GetMetricData`
        : `CloudWatch could not read ${what} (${code}); the next measurement asks again`,
    );
  }
  return { series, elb5xx };
}

function describeRef(plan: MetricQueryPlan, ref: QueryRef): string {
  if (ref.metric === 'HTTPCode_ELB_5XX_Count') return `${ref.metric} of ${plan.elb5xxLoadBalancers[ref.loadBalancer]}`;
  const s = plan.series[ref.series]!;
  return `${ref.metric} of ${s.targetGroup} on ${s.loadBalancer}`;
}

/** The window's totals of one series: counts summed, latency weighted by the minute's requests. */
export function seriesTotals(s: TargetGroupSeries): TargetGroupTotals {
  let requests = 0;
  let errors = 0;
  let latencySum = 0;
  let latencyWeight = 0;
  for (let i = 0; i < s.requests.length; i++) {
    const req = s.requests[i] ?? 0;
    requests += req;
    errors += s.errors[i] ?? 0;
    const lat = s.latency[i];
    // A minute with a latency but no RequestCount datapoint weighs nothing: there is no count to weigh it by.
    if (lat !== null && lat !== undefined && req > 0) {
      latencySum += lat * req;
      latencyWeight += req;
    }
  }
  return { requests, errors, latencySum, latencyWeight };
}

/** The HTTPCode_ELB_5XX_Count of the window summed over every load balancer of the plan. */
export function elb5xxTotal(parsed: ParsedMetrics): number {
  let sum = 0;
  for (const perMinute of parsed.elb5xx.values()) for (const v of perMinute) sum += v;
  return sum;
}
