// The verdict on one measurement: the canary's CloudWatch totals against the configured checks and against the
// stable's. Pure. The rules (docs/analysis.md says the same to users):
//
// 1. No evidence is never a pass: a canary weight of 0, or fewer than minRequests canary requests in the
//    window, is Inconclusive (Argo then pauses the Rollout once inconclusiveLimit is reached).
// 2. Checks against the stable need a stable that served minRequests too; otherwise they are skipped and the
//    message says so. The absolute checks still apply.
// 3. Any check that fails makes the measurement Failed; the message names each failed check, the numbers and
//    the threshold. A value equal to its threshold passes.
// 4. If every configured check had to be skipped, the measurement is Inconclusive, not Successful.
// 5. Several load balancers: the canary's target groups are summed over them, and so are the stable's.

import { CHECK_FIELDS, type AnalysisConfig, type CheckName } from './config.js';
import { errorRate, meanLatency, type TargetGroupTotals } from './totals.js';
import { describeWindow, type QueryWindow } from './window.js';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export type CheckResult = 'pass' | 'fail' | 'skipped';

export interface CheckOutcome {
  check: CheckName;
  result: CheckResult;
  /** The canary's value (or the load balancers' 5xx count); null when it could not be measured. */
  observed: number | null;
  /** The threshold it was held to (for the relative checks: the stable's value plus the allowance). */
  limit: number | null;
  /** Why a check was skipped. */
  reason?: string;
}

export interface RoleValue {
  /** Target-group names (the middle of targetgroup/<name>/<id>). */
  targetGroups: string[];
  requests: number;
  errors: number;
  /** null without requests. */
  errorRate: number | null;
  /** Mean TargetResponseTime in seconds weighted by requests; null without datapoints. */
  latencySeconds: number | null;
}

/** The numbers behind a verdict: a small JSON object Argo stores as the measurement's value. */
export interface MeasurementValue {
  window: { start: string; end: string; minutes: number };
  canaryWeight: number | null;
  /** Load balancer names; the role totals are summed over all of them. */
  loadBalancers: string[];
  canary: RoleValue;
  stable: RoleValue;
  /** HTTPCode_ELB_5XX_Count summed over the load balancers; present when maxElb5xxCount is set. */
  elb5xx?: number;
  minRequests: number;
  checks: CheckOutcome[];
}

export interface Measurement {
  phase: MeasurementPhase;
  message: string;
  /** null when there is nothing measured to show (a measurement that failed before CloudWatch answered). */
  value: MeasurementValue | null;
}

export interface JudgeInput {
  config: AnalysisConfig;
  /** The canary's target groups summed over every load balancer. */
  canary: TargetGroupTotals;
  stable: TargetGroupTotals;
  /** HTTPCode_ELB_5XX_Count summed over the load balancers; undefined when not asked for. */
  elb5xx?: number;
  /** The canary's current weight in percent; undefined when unknown (then rule 1 rests on requests alone). */
  canaryWeight?: number;
  window: QueryWindow;
  /** Names for messages and the value. */
  loadBalancers: readonly string[];
  canaryTargetGroups: readonly string[];
  stableTargetGroups: readonly string[];
}

/** Values closer than this to their threshold pass: 0.03 must not fail against 0.02 + 0.01 = 0.030000000000000002. */
const EPSILON = 1e-9;

/** A fraction as a percentage: 3 significant decimals at most ("3.2 %", "0.125 %"). */
export function percent(x: number): string {
  return `${Number((x * 100).toFixed(3))} %`;
}

/** An allowance in percentage points: "1 point", "0.5 points". */
function points(x: number): string {
  const n = Number((x * 100).toFixed(3));
  return `${n} ${n === 1 ? 'point' : 'points'}`;
}

/** Seconds as a message shows them: milliseconds with one decimal below a second ("120 ms"), else 3 decimals ("1.235 s"). */
export function seconds(x: number): string {
  return x < 1 ? `${Number((x * 1000).toFixed(1))} ms` : `${Number(x.toFixed(3))} s`;
}

/** Rounds for the JSON value (judging uses the exact numbers): 6 decimals keep 0.0001 % and 1 µs. */
const round = (x: number): number => Math.round(x * 1e6) / 1e6;
const orNull = (x: number | undefined): number | null => (x === undefined ? null : round(x));

function roleValue(t: TargetGroupTotals, names: readonly string[]): RoleValue {
  return {
    targetGroups: [...names],
    requests: t.requests,
    errors: t.errors,
    errorRate: orNull(errorRate(t)),
    latencySeconds: orNull(meanLatency(t)),
  };
}

const ratio = (t: TargetGroupTotals): string => `${t.errors} of ${t.requests} requests`;

interface Evaluated extends CheckOutcome {
  /** The sentence for the message: what was compared and how it came out. */
  text: string;
}

function evaluate(input: JudgeInput): Evaluated[] {
  const { config, canary, stable } = input;
  const out: Evaluated[] = [];
  const canaryRate = errorRate(canary) ?? 0; // canary.requests ≥ minRequests ≥ 1 here
  const stableRate = errorRate(stable);
  const canaryLatency = meanLatency(canary);
  const stableLatency = meanLatency(stable);
  const stableEnough = stable.requests >= config.minRequests;
  const stableShort = `the stable served ${stable.requests} requests (fewer than minRequests ${config.minRequests})`;

  const judged = (check: CheckName, observed: number, limit: number, text: (ok: boolean) => string): Evaluated => {
    const ok = observed <= limit + EPSILON;
    return { check, result: ok ? 'pass' : 'fail', observed: round(observed), limit: round(limit), text: text(ok) };
  };
  const skipped = (check: CheckName, observed: number | undefined, reason: string): Evaluated => ({
    check,
    result: 'skipped',
    observed: orNull(observed),
    limit: null,
    reason,
    text: `${check} skipped: ${reason}`,
  });

  for (const check of CHECK_FIELDS) {
    const threshold = config[check];
    if (threshold === undefined) continue;
    switch (check) {
      case 'maxErrorRate':
        out.push(judged(check, canaryRate, threshold, (ok) =>
          `canary 5xx rate ${percent(canaryRate)} (${ratio(canary)}) ${ok ? '≤' : '>'} maxErrorRate ${percent(threshold)}`));
        break;
      case 'maxErrorRateIncrease':
        if (!stableEnough || stableRate === undefined) {
          out.push(skipped(check, canaryRate, stableShort));
          break;
        }
        out.push(judged(check, canaryRate, stableRate + threshold, (ok) =>
          `canary 5xx rate ${percent(canaryRate)} (${ratio(canary)}) ${ok ? '≤' : '>'} stable ${percent(stableRate)} (${ratio(stable)}) ` +
            `+ maxErrorRateIncrease ${points(threshold)} = ${percent(stableRate + threshold)}`));
        break;
      case 'maxLatencySeconds':
        if (canaryLatency === undefined) {
          out.push(skipped(check, undefined, 'CloudWatch has no TargetResponseTime for the canary in the window'));
          break;
        }
        out.push(judged(check, canaryLatency, threshold, (ok) =>
          `canary mean response time ${seconds(canaryLatency)} ${ok ? '≤' : '>'} maxLatencySeconds ${seconds(threshold)}`));
        break;
      case 'maxLatencyIncrease':
        if (!stableEnough) {
          out.push(skipped(check, canaryLatency, stableShort));
          break;
        }
        if (canaryLatency === undefined || stableLatency === undefined) {
          const who = canaryLatency === undefined ? 'the canary' : 'the stable';
          out.push(skipped(check, canaryLatency, `CloudWatch has no TargetResponseTime for ${who} in the window`));
          break;
        }
        out.push(judged(check, canaryLatency, stableLatency * (1 + threshold), (ok) =>
          `canary mean response time ${seconds(canaryLatency)} ${ok ? '≤' : '>'} stable ${seconds(stableLatency)} ` +
            `+ maxLatencyIncrease ${percent(threshold)} = ${seconds(stableLatency * (1 + threshold))}`));
        break;
      case 'maxElb5xxCount': {
        if (input.elb5xx === undefined) {
          out.push(skipped(check, undefined, 'HTTPCode_ELB_5XX_Count was not measured'));
          break;
        }
        const lbs = input.loadBalancers.length === 1 ? 'the load balancer' : `the ${input.loadBalancers.length} load balancers`;
        const self = input.loadBalancers.length === 1 ? 'itself' : 'themselves';
        const elb5xx = input.elb5xx;
        out.push(judged(check, elb5xx, threshold, (ok) =>
          `${lbs} answered ${elb5xx} 5xx ${self} (HTTPCode_ELB_5XX_Count) ${ok ? '≤' : '>'} maxElb5xxCount ${threshold}`));
        break;
      }
    }
  }
  return out;
}

function value(input: JudgeInput, checks: readonly CheckOutcome[]): MeasurementValue {
  return {
    window: { start: input.window.start.toISOString(), end: input.window.end.toISOString(), minutes: input.window.minutes },
    canaryWeight: input.canaryWeight !== undefined && Number.isFinite(input.canaryWeight) ? input.canaryWeight : null,
    loadBalancers: [...input.loadBalancers],
    canary: roleValue(input.canary, input.canaryTargetGroups),
    stable: roleValue(input.stable, input.stableTargetGroups),
    ...(input.config.maxElb5xxCount !== undefined && input.elb5xx !== undefined ? { elb5xx: input.elb5xx } : {}),
    minRequests: input.config.minRequests,
    // Without the sentence: the message carries it.
    checks: checks.map(({ check, result, observed, limit, reason }) => ({ check, result, observed, limit, ...(reason ? { reason } : {}) })),
  };
}

export function judge(input: JudgeInput): Measurement {
  const { config, canary } = input;
  const lbCount = input.loadBalancers.length;
  const where =
    `${input.window.minutes} min (${describeWindow(input.window)})` +
    (lbCount > 1 ? `, canary and stable each summed over ${lbCount} load balancers` : '');

  const weight = input.canaryWeight;
  if (weight !== undefined && !(weight > 0)) {
    return {
      phase: 'Inconclusive',
      message: `canary weight is ${weight}: no traffic reaches the canary, so there is nothing to judge; window ${where}`,
      value: value(input, []),
    };
  }
  if (canary.requests < config.minRequests) {
    const none = canary.requests === 0 ? '; CloudWatch publishes ALB metrics only for minutes with requests' : '';
    return {
      phase: 'Inconclusive',
      message: `canary served ${canary.requests} requests in ${where}, fewer than minRequests ${config.minRequests}: not enough traffic to judge${none}`,
      value: value(input, []),
    };
  }

  const checks = evaluate(input);
  const failed = checks.filter((c) => c.result === 'fail');
  const passed = checks.filter((c) => c.result === 'pass');
  const skipped = checks.filter((c) => c.result === 'skipped');
  const skippedText = skipped.length ? `; ${skipped.map((c) => c.text).join('; ')}` : '';

  if (failed.length > 0) {
    const head = failed.length === 1 ? `canary failed ${failed[0]!.check}` : `canary failed ${failed.length} checks (${failed.map((c) => c.check).join(', ')})`;
    return {
      phase: 'Failed',
      message: `${head}: ${failed.map((c) => c.text).join('; ')}; window ${where}`,
      value: value(input, checks),
    };
  }
  if (passed.length === 0) {
    return {
      phase: 'Inconclusive',
      message: `no check could be applied in ${where}: ${skipped.map((c) => c.text).join('; ')}`,
      value: value(input, checks),
    };
  }
  return {
    phase: 'Successful',
    message:
      `canary passed ${passed.length === 1 ? passed[0]!.check : `${passed.length} checks`} over ${where}: ` +
      `${passed.map((c) => c.text).join('; ')}${skippedText}`,
    value: value(input, checks),
  };
}
