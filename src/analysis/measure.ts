// One measurement: the window, one GetMetricData call for every load balancer and target group of the Rollout,
// the totals per role and the verdict. Which load balancers and target groups (and the canary's weight) is the
// caller's business (discovery from the Rollout); this is the glue between the pure parts and CloudWatch.
// Failures become phase Error with a message, as Argo counts them against consecutiveErrorLimit; only the
// caller's own abort is thrown.

import { awsErrorCode } from '../aws/elbv2.js';
import type { CloudWatch } from './cloudwatch.js';
import type { AnalysisConfig } from './config.js';
import { judge, type Measurement } from './judge.js';
import {
  buildMetricQueries,
  dimensionName,
  elb5xxTotal,
  MetricQueryError,
  parseMetricResults,
  seriesTotals,
  type AnalysisTarget,
  type MetricQueryPlan,
  type ParsedMetrics,
  type SeriesKey,
} from './query.js';
import { sumTotals, type TargetGroupTotals } from './totals.js';
import { queryWindow } from './window.js';

export interface MeasureRequest {
  /** Every load balancer the Rollout's traffic goes through, with its canary and stable target groups. */
  targets: readonly AnalysisTarget[];
  /** The canary's weight in percent now; undefined when the caller cannot tell. */
  canaryWeight?: number;
  config: AnalysisConfig;
  now: Date | number;
  signal?: AbortSignal;
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

function failure(message: string): Measurement {
  return { phase: 'Error', message, value: null };
}

/** What went wrong with the call, for the measurement's message (and the fix where there is an obvious one). */
export function describeCloudWatchError(err: unknown): string {
  // A code only for CloudWatch's own answers (they carry $metadata); a plain Error's name says nothing.
  const code = typeof err === 'object' && err !== null && '$metadata' in err ? awsErrorCode(err) : undefined;
  const text = err instanceof Error ? err.message : String(err);
  if (code === 'AccessDenied' || code === 'UnauthorizedOperation') {
    return `CloudWatch GetMetricData was refused (${code}): the sidecar's role needs cloudwatch:GetMetricData; ${text}`;
  }
  return `CloudWatch GetMetricData failed${code && !text.startsWith(code) ? ` (${code})` : ''}: ${text}`;
}

/** The role's target groups summed over every load balancer. */
function roleTotals(plan: MetricQueryPlan, perSeries: readonly TargetGroupTotals[], role: SeriesKey['role']): TargetGroupTotals {
  return sumTotals(perSeries.filter((_, i) => plan.series[i]!.role === role));
}

const names = (plan: MetricQueryPlan, role: SeriesKey['role']): string[] =>
  unique(plan.series.filter((s) => s.role === role).map((s) => dimensionName(s.targetGroup)));

export async function measure(req: MeasureRequest, cloudwatch: Pick<CloudWatch, 'getMetricData'>): Promise<Measurement> {
  const { config } = req;
  const window = queryWindow(req.now, config.lookbackSeconds, config.settleDelaySeconds);
  let plan: MetricQueryPlan;
  try {
    plan = buildMetricQueries(req.targets, window, { elb5xx: config.maxElb5xxCount !== undefined });
  } catch (err) {
    if (err instanceof MetricQueryError) return failure(err.message);
    throw err;
  }

  let parsed: ParsedMetrics;
  try {
    const answer = await cloudwatch.getMetricData(plan.input, req.signal ? { signal: req.signal } : {});
    parsed = parseMetricResults(plan, answer.results);
  } catch (err) {
    if (req.signal?.aborted) throw err;
    return failure(err instanceof MetricQueryError ? err.message : describeCloudWatchError(err));
  }

  const perSeries = parsed.series.map(seriesTotals);
  return judge({
    config,
    canary: roleTotals(plan, perSeries, 'canary'),
    stable: roleTotals(plan, perSeries, 'stable'),
    ...(config.maxElb5xxCount !== undefined ? { elb5xx: elb5xxTotal(parsed) } : {}),
    ...(req.canaryWeight !== undefined ? { canaryWeight: req.canaryWeight } : {}),
    window,
    loadBalancers: unique(plan.series.map((s) => dimensionName(s.loadBalancer))),
    canaryTargetGroups: names(plan, 'canary'),
    stableTargetGroups: names(plan, 'stable'),
  });
}
