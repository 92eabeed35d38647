// From the load balancers and target groups a Rollout's mode found (src/plugin/mode.ts AlbTargets, ARNs) to
// what one measurement queries (query.ts AnalysisTarget, CloudWatch's dimension forms). Pure.
//
// A load balancer whose rules do not (yet) name both a canary and a stable target group cannot be compared
// and is left out with a reason; the caller decides what a measurement with none left is.

import { elbFullName } from '../aws/arns.js';
import type { AlbTargets } from '../plugin/mode.js';
import type { AnalysisTarget } from './query.js';

export interface AnalysisTargets {
  /** The comparable pairs, in the mode's order, each (load balancer, canary, stable) once. */
  targets: AnalysisTarget[];
  /** Why a load balancer was left out, one sentence each (`k8s-demo-shop-0123456789: no canary target group`). */
  skipped: string[];
}

/** `k8s-demo-shop-0123456789` (the load balancer's name) for messages, or the ARN when it is not one. */
function lbLabel(t: AlbTargets): string {
  const full = elbFullName(t.loadBalancerArn);
  const name = full?.split('/')[1] ?? t.loadBalancerArn;
  return t.ingress ? `${name} (Ingress ${t.ingress})` : name;
}

export function analysisTargets(found: readonly AlbTargets[]): AnalysisTargets {
  const targets: AnalysisTarget[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const t of found) {
    const loadBalancer = elbFullName(t.loadBalancerArn);
    const canary = t.canaryTargetGroupArn === undefined ? undefined : elbFullName(t.canaryTargetGroupArn);
    const stable = t.stableTargetGroupArn === undefined ? undefined : elbFullName(t.stableTargetGroupArn);
    const missing = [
      ...(loadBalancer?.startsWith('app/') ? [] : [`its ARN ${JSON.stringify(t.loadBalancerArn)} is not an Application Load Balancer's`]),
      ...(t.canaryTargetGroupArn === undefined ? ['no canary target group'] : canary ? [] : [`canary ${JSON.stringify(t.canaryTargetGroupArn)} is not a target group ARN`]),
      ...(t.stableTargetGroupArn === undefined ? ['no stable target group'] : stable ? [] : [`stable ${JSON.stringify(t.stableTargetGroupArn)} is not a target group ARN`]),
    ];
    if (missing.length > 0 || !loadBalancer || !canary || !stable) {
      skipped.push(`${lbLabel(t)}: ${missing.join(', ')}`);
      continue;
    }
    if (canary === stable) {
      skipped.push(`${lbLabel(t)}: canary and stable forward to the same target group ${canary.split('/')[1]}`);
      continue;
    }
    const key = `${loadBalancer} ${canary} ${stable}`;
    if (seen.has(key)) continue; // two Ingresses of one group on the same rules
    seen.add(key);
    targets.push({ loadBalancer, canaryTargetGroup: canary, stableTargetGroup: stable });
  }
  return { targets, skipped };
}
