// The analysis block of a metric, as a user writes it in an AnalysisTemplate:
//
//   metrics:
//   - name: canary-vs-stable
//     provider:
//       plugin:
//         argoproj-labs/alb-analysis:
//           maxErrorRateIncrease: 0.01
//           maxLatencyIncrease: 0.2
//
// Pure: it reads the block and returns a normalised config with every default filled in, or throws a
// ConfigError naming the field path and the fix. Which Rollout, load balancers and target groups the metric is
// about is decided elsewhere (provider.ts: the AnalysisRun's owner and its mode; `otherFields` lets a caller
// accept fields of its own in the same block).
// docs/analysis.md is the user's description of these fields; keep the two in step.

import { ConfigError, describeValue, isObject } from '../core/fields.js';
import { formatDuration, parseGoDuration } from './duration.js';

export interface AnalysisConfig {
  /** How far back the window reaches, in seconds: whole minutes, as CloudWatch publishes ALB metrics per minute. */
  lookbackSeconds: number;
  /** How long after a minute ends before it is trusted: CloudWatch finishes publishing an ALB minute late. */
  settleDelaySeconds: number;
  /**
   * Requests a target group must have served in the window: fewer on the canary → Inconclusive; fewer on the
   * stable → the checks relative to the stable are skipped.
   */
  minRequests: number;
  /** Ceiling on the canary's 5xx rate (HTTPCode_Target_5XX_Count / RequestCount), a fraction (0.01 = 1 %). */
  maxErrorRate?: number;
  /** The canary's 5xx rate may exceed the stable's by at most this many points (a fraction: 0.01 = 1 point). */
  maxErrorRateIncrease?: number;
  /** Ceiling on the canary's mean TargetResponseTime, seconds. */
  maxLatencySeconds?: number;
  /** The canary's mean TargetResponseTime may exceed the stable's by at most this fraction (0.2 = 20 % slower). */
  maxLatencyIncrease?: number;
  /** Ceiling on HTTPCode_ELB_5XX_Count (502/503/504 the load balancers answered themselves) over the window. */
  maxElb5xxCount?: number;
}

export const ANALYSIS_DEFAULTS = {
  lookbackSeconds: 300,
  settleDelaySeconds: 120,
  minRequests: 50,
} as const satisfies Partial<AnalysisConfig>;

/** The checks; at least one must be set (a metric without one would pass on any traffic). */
export const CHECK_FIELDS = ['maxErrorRate', 'maxErrorRateIncrease', 'maxLatencySeconds', 'maxLatencyIncrease', 'maxElb5xxCount'] as const;
export type CheckName = (typeof CHECK_FIELDS)[number];

/** Every field this parser reads. */
export const ANALYSIS_FIELDS = ['lookback', 'settleDelay', 'minRequests', ...CHECK_FIELDS] as const;

/** Limits on the window: a minute is CloudWatch's period; a day keeps one call's datapoints well under its cap. */
export const MIN_LOOKBACK_SECONDS = 60;
export const MAX_LOOKBACK_SECONDS = 24 * 3600;
export const MAX_SETTLE_DELAY_SECONDS = 3600;

/**
 * Path of the block in an AnalysisTemplate, for messages:
 * `spec.metrics[name="error-rate"].provider.plugin["argoproj-labs/alb-analysis"]`.
 */
export function analysisPluginPath(pluginName: string, metricName?: string): string {
  const metric = metricName === undefined ? 'spec.metrics[]' : `spec.metrics[name=${JSON.stringify(metricName)}]`;
  return `${metric}.provider.plugin[${JSON.stringify(pluginName)}]`;
}

export interface ParseOptions {
  /** Field path of the block (see analysisPluginPath). */
  path: string;
  /** Fields of the same block another part reads (target discovery); accepted here without a look. */
  otherFields?: readonly string[];
}

/** Fields a user may reach for by another name; the refusal then names the right one. */
const HINTS: Record<string, string> = {
  interval:
    "interval is the metric's own field (how often Argo measures, next to provider:); the window this plugin queries is lookback",
  window: 'the window this plugin queries is called lookback (e.g. lookback: 5m)',
  period: 'the period is always 60 s (CloudWatch publishes ALB metrics per minute); set the window with lookback',
  settle: 'the field is called settleDelay (e.g. settleDelay: 2m)',
  minRequestCount: 'the field is called minRequests',
  maxLatency: 'the absolute ceiling is maxLatencySeconds (seconds), the increase over the stable maxLatencyIncrease (a fraction)',
  elb5xxGuard: 'the load balancer guard is maxElb5xxCount (a count of HTTPCode_ELB_5XX_Count over the window)',
  maxElb5xx: 'the load balancer guard is maxElb5xxCount',
  percentile: 'percentiles are not supported: the latency checks use the mean TargetResponseTime weighted by requests',
  statistic: 'the statistics are fixed (Sum of counts, Average of TargetResponseTime weighted by requests)',
};

/**
 * A number as the block holds it. Strings of plain decimals are accepted too: Argo substitutes `{{args.x}}` as
 * text, and YAML only lets a user template a value by quoting it.
 */
function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function fraction(value: unknown, path: string, example: string): number {
  const n = numberOf(value);
  if (n === undefined || n < 0) {
    throw new ConfigError(path, `${describeValue(value)} is not a fraction between 0 and 1; write e.g. ${example}`);
  }
  if (n > 1) {
    const asPercent = n <= 100 ? ` (for ${n} % write ${n / 100})` : '';
    throw new ConfigError(path, `${n} is above 1: it is a fraction, not a percentage${asPercent}`);
  }
  return n;
}

function positive(value: unknown, path: string, what: string): number {
  const n = numberOf(value);
  if (n === undefined || !(n > 0)) throw new ConfigError(path, `${describeValue(value)} is not a positive number; set ${what}`);
  return n;
}

function nonNegative(value: unknown, path: string, what: string): number {
  const n = numberOf(value);
  if (n === undefined || n < 0) throw new ConfigError(path, `${describeValue(value)} is not a number ≥ 0; set ${what}`);
  return n;
}

function count(value: unknown, path: string, min: number, what: string): number {
  const n = numberOf(value);
  if (n === undefined || !Number.isInteger(n) || n < min) {
    throw new ConfigError(path, `${describeValue(value)} is not a whole number ≥ ${min}; set ${what}`);
  }
  return n;
}

function duration(value: unknown, path: string, example: string): number {
  const seconds = typeof value === 'string' ? parseGoDuration(value.trim()) : undefined;
  if (seconds === undefined) {
    const asNumber = typeof value === 'number' ? ` (a bare number has no unit; write "${value}s" or "${value}m")` : '';
    throw new ConfigError(path, `${describeValue(value)} is not a duration${asNumber}; write e.g. "${example}" (units s, m, h)`);
  }
  return seconds;
}

export function parseAnalysisConfig(block: unknown, opts: ParseOptions): AnalysisConfig {
  const base = opts.path;
  if (!isObject(block)) {
    throw new ConfigError(base, `${block === undefined || block === null ? 'missing' : 'not an object'}; configure at least one check, e.g. maxErrorRateIncrease: 0.01`);
  }
  const known = new Set<string>([...ANALYSIS_FIELDS, ...(opts.otherFields ?? [])]);
  for (const key of Object.keys(block)) {
    if (known.has(key)) continue;
    const hint = HINTS[key];
    throw new ConfigError(`${base}.${key}`, hint ? `unknown field; ${hint}` : `unknown field; the fields are ${[...known].join(', ')}`);
  }

  const config: AnalysisConfig = { ...ANALYSIS_DEFAULTS };

  if (block.lookback !== undefined) {
    const path = `${base}.lookback`;
    const s = duration(block.lookback, path, '5m');
    if (s % 60 !== 0 || s < MIN_LOOKBACK_SECONDS) {
      throw new ConfigError(path, `${describeValue(block.lookback)} is not a whole number of minutes: CloudWatch publishes ALB metrics per minute; write e.g. "5m"`);
    }
    if (s > MAX_LOOKBACK_SECONDS) {
      throw new ConfigError(path, `${describeValue(block.lookback)} is longer than ${formatDuration(MAX_LOOKBACK_SECONDS)}; a canary is judged on recent minutes, write e.g. "15m"`);
    }
    config.lookbackSeconds = s;
  }
  if (block.settleDelay !== undefined) {
    const path = `${base}.settleDelay`;
    const s = duration(block.settleDelay, path, '2m');
    if (s > MAX_SETTLE_DELAY_SECONDS) {
      throw new ConfigError(path, `${describeValue(block.settleDelay)} is longer than ${formatDuration(MAX_SETTLE_DELAY_SECONDS)}; CloudWatch publishes ALB minutes within a few minutes, write e.g. "2m"`);
    }
    config.settleDelaySeconds = s;
  }
  if (block.minRequests !== undefined) {
    config.minRequests = count(block.minRequests, `${base}.minRequests`, 1, 'the requests each target group needs in the window before it is judged, e.g. 50');
  }

  if (block.maxErrorRate !== undefined) config.maxErrorRate = fraction(block.maxErrorRate, `${base}.maxErrorRate`, '0.05 for 5 %');
  if (block.maxErrorRateIncrease !== undefined) {
    config.maxErrorRateIncrease = fraction(block.maxErrorRateIncrease, `${base}.maxErrorRateIncrease`, '0.01 for one point above the stable');
  }
  if (block.maxLatencySeconds !== undefined) {
    config.maxLatencySeconds = positive(block.maxLatencySeconds, `${base}.maxLatencySeconds`, 'the ceiling in seconds, e.g. 0.5');
  }
  if (block.maxLatencyIncrease !== undefined) {
    config.maxLatencyIncrease = nonNegative(block.maxLatencyIncrease, `${base}.maxLatencyIncrease`, 'a fraction of the stable latency, e.g. 0.2 for 20 % slower');
  }
  if (block.maxElb5xxCount !== undefined) {
    config.maxElb5xxCount = count(block.maxElb5xxCount, `${base}.maxElb5xxCount`, 0, 'the load balancers\' own 5xx answers allowed in the window, e.g. 10');
  }

  if (!CHECK_FIELDS.some((f) => config[f] !== undefined)) {
    throw new ConfigError(base, `no check is configured, so any traffic would pass; set at least one of ${CHECK_FIELDS.join(', ')} (e.g. maxErrorRateIncrease: 0.01)`);
  }
  return config;
}
