// The target-group half of every mode's report (src/plugin/report.ts): a Service's target check (target-health.ts)
// as the API shows it, which Services must hold their pods now (only those that should carry traffic), and the
// report's verdict from the weight check and the target checks together.

import type { TargetGroupReport, WeightMap } from '../plugin/report.js';
import type { TargetsReport } from './target-health.js';
import type { VerdictReport } from './verdict.js';

/** Weights summed by Service (entries without one are left out), e.g. `{"app-canary": 20, "app-stable": 80}`. */
export function weightMap(entries: Array<{ service?: string; weight: number }>): WeightMap {
  const out: WeightMap = {};
  for (const e of entries) {
    if (e.service) out[e.service] = (out[e.service] ?? 0) + e.weight;
  }
  return out;
}

export function targetGroupsFrom(t: TargetsReport): TargetGroupReport[] {
  return t.targetGroups.map((g) => ({
    service: t.service,
    targetGroupBinding: g.targetGroupBinding,
    arn: g.targetGroupArn || null,
    expectedTargets: g.expected,
    registeredTargets: g.registered,
    healthyTargets: g.healthy,
    verified: g.verified,
    reasons: [
      ...(g.skipped ? [`skipped: ${g.skipped}`] : []),
      ...(g.error ? [g.error] : []),
      ...(g.missing.length > 0 ? [`not ${t.mode === 'healthy' ? 'healthy' : 'registered'}: ${g.missing.join(', ')}`] : []),
    ],
  }));
}

export function targetReasons(t: TargetsReport): string[] {
  const own = [...t.reasons, ...(t.error ? [t.error] : [])];
  return t.verified ? [] : own.length > 0 ? own.map((r) => `Service ${t.service}: ${r}`) : [`Service ${t.service}: targets not verified`];
}

/** The Services whose targets must be in place: stable while it carries weight, canary while it does. */
export function servicesCarryingTraffic(services: { stable: string; canary: string }, stableWeight: number, canaryWeight: number): string[] {
  return [...new Set([...(stableWeight > 0 ? [services.stable] : []), ...(canaryWeight > 0 ? [services.canary] : [])])];
}

/** A mode report's verdict, from its weight check and its target checks. */
export interface ReportVerdict {
  /** The report's top-level `verified` and `reasons`: the weights' reasons, then the targets', each once. */
  whole: { verified: boolean; reasons: string[] };
  /** The weight check's own: `verified` when the weights are in place and the check finished; its failure last. */
  weights: { verified: boolean; reasons: string[] };
}

/**
 * The verdict of a mode's report from its weight check and the target checks of what should carry traffic now
 * (Services, or listener-rule roles): verified only when the weights are, without a failure, and every target
 * check is.
 */
export function reportVerdict(weights: Pick<VerdictReport, 'verified' | 'reasons' | 'error'>, targets: Array<{ verified: boolean }>, targetReasons: string[]): ReportVerdict {
  const own = { verified: weights.verified && !weights.error, reasons: [...weights.reasons, ...(weights.error ? [weights.error] : [])] };
  return {
    whole: { verified: own.verified && targets.every((t) => t.verified), reasons: [...new Set([...own.reasons, ...targetReasons])] },
    weights: own,
  };
}
