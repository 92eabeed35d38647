// The target-group half of every mode's report (src/plugin/report.ts): a Service's target check (target-health.ts)
// as the API shows it, and which Services must hold their pods now (only those that should carry traffic).

import type { TargetGroupReport, WeightMap } from '../plugin/report.js';
import type { TargetsReport } from './target-health.js';

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
