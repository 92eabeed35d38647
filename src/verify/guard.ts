// The final-switch guard (Argo #2864, #4433; argo-alb-spec.md §2.6, §11.6). At the end of a canary without
// ping-pong, Argo switches the stable Service's selector to the new pods and, in the same reconcile, sets
// the weight back to stable 100. If the LBC has not yet registered the new pods in the stable target group,
// traffic goes to an empty (or draining) target group. The guard holds the action at canary 100 until
// `verifyTargets(stable)` holds; SetWeight then fails with the reason, so Argo retries and does not scale
// the old ReplicaSet down in between.
import type { Rollout } from '../trafficrouter/rollout.js';
import type { GuardDecision, SetWeightGuard, WeightRequest } from '../trafficrouter/types.js';
import { isFullyPromoted } from './gate.js';
import type { TargetsReport } from './targets.js';

export interface SetWeightGuardDeps {
  /** `--aws-verify-target-group`: without AWS access there is nothing to wait for. */
  enabled: boolean;
  verifyTargets(namespace: string, service: string): Promise<TargetsReport>;
}

/**
 * True when SetWeight is about to move all traffic from the canary back to the stable Service right after
 * a promotion: the stable ReplicaSet is the new one, the last weights were canary = max, and the new
 * desired weight is 0. Aborts and ping-pong never qualify (ping-pong never re-points a live Service).
 */
export function isFinalSwitch(req: WeightRequest): boolean {
  if (req.services.pingPong) return false;
  const r: Rollout = req.rollout;
  if (r.status?.abort) return false;
  if (!isFullyPromoted(r)) return false;
  if (req.desiredWeight !== 0 || req.additionalDestinations.length > 0) return false;
  return r.status?.canary?.weights?.canary?.weight === req.maxWeight;
}

export function createSetWeightGuard(deps: SetWeightGuardDeps): SetWeightGuard {
  return {
    async beforeSetWeight(req: WeightRequest): Promise<GuardDecision> {
      if (!deps.enabled || !isFinalSwitch(req)) return { hold: false };
      const ns = req.rollout.metadata.namespace ?? 'default';
      const stable = req.services.stable;
      const report = await deps.verifyTargets(ns, stable);
      if (report.verified) return { hold: false };
      const why = report.error ?? (report.reasons.join('; ') || 'targets not verified');
      return {
        hold: true,
        reason:
          `holding traffic on the canary: waiting for the target groups of stable Service ${ns}/${stable} ` +
          `to hold the new pods (${report.mode}) before switching back to stable: ${why}`,
      };
    },
  };
}
