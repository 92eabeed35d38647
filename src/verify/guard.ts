// The final-switch guard (Argo #2864, #4433; argo-alb-spec.md §2.6, §11.6). At the end of a canary without
// ping-pong, Argo switches the stable Service's selector to the new pods and, in the same reconcile, sets
// the weight back to stable 100. If the LBC has not yet registered the new pods in the stable target group,
// traffic goes to an empty (or draining) target group. The guard holds the action at canary 100 until
// `verifyTargets(stable)` holds for the pods of the ReplicaSet becoming stable (status.stableRS: the Service's
// `rollouts-pod-template-hash` selector, read from the pods API, since EndpointSlices may still list the old
// pods right after the switch); SetWeight then fails with the reason, so Argo retries and does not scale
// the old ReplicaSet down in between. A check that cannot run (the TargetGroupBinding API is not served, an
// API error) holds too, with that error: the guard never fails open.
import type { Rollout } from '../core/rollout.js';
import type { WeightStep } from '../core/weights.js';
import { GUARD_SHARE, stepBudgetMs, throwIfCancelled, type CallContext } from '../plugin/call.js';
import type { GuardDecision, SetWeightGuard } from '../plugin/hooks.js';
import { isFullyPromoted } from './gate.js';
import { POD_TEMPLATE_HASH_LABEL, type TargetsReport } from './target-health.js';

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
export function isFinalSwitch(req: WeightStep): boolean {
  if (req.services.pingPong) return false;
  const r: Rollout = req.rollout;
  if (r.status?.abort) return false;
  if (!isFullyPromoted(r)) return false;
  if (req.desiredWeight !== 0 || req.additionalDestinations.length > 0) return false;
  return r.status?.canary?.weights?.canary?.weight === req.maxWeight;
}

/** The guard as the routers call it: with the RPC call, whose budget it keeps to (src/plugin/router.ts). */
export interface CallAwareGuard extends SetWeightGuard {
  beforeSetWeight(req: WeightStep, call?: CallContext): Promise<GuardDecision>;
}

/** The check's answer, or how long it was given when its share of the call's budget ran out first. */
async function within<T>(work: Promise<T>, call: CallContext | undefined): Promise<{ value: T } | { outOfTimeMs: number }> {
  if (!call) return { value: await work };
  const ms = stepBudgetMs(call, call.timeoutMs * GUARD_SHARE);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work.then((value) => ({ value })),
      new Promise<{ outOfTimeMs: number }>((resolve) => {
        timer = setTimeout(() => resolve({ outOfTimeMs: ms }), ms);
        onAbort = () => resolve({ outOfTimeMs: ms });
        call.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) call.signal.removeEventListener('abort', onAbort);
  }
}

export function createSetWeightGuard(deps: SetWeightGuardDeps): CallAwareGuard {
  return {
    async beforeSetWeight(req: WeightStep, call?: CallContext): Promise<GuardDecision> {
      if (!deps.enabled || !isFinalSwitch(req)) return { hold: false };
      const ns = req.rollout.metadata.namespace ?? 'default';
      const stable = req.services.stable;
      const hold = (why: string, mode?: string): GuardDecision => ({
        hold: true,
        reason:
          `holding traffic on the canary: waiting for the target groups of stable Service ${ns}/${stable} ` +
          `to hold the new pods${mode ? ` (${mode})` : ''} before switching back to stable: ${why}`,
      });
      const answer = await within(deps.verifyTargets(ns, stable), call);
      throwIfCancelled(call, 'the final switch to stable');
      if ('outOfTimeMs' in answer) {
        const seconds = Math.round(answer.outOfTimeMs / 100) / 10;
        return hold(
          `the target check did not finish within ${seconds}s (its share of --rpc-timeout-seconds); the next reconcile checks again`,
        );
      }
      const report = answer.value;
      // The pods compared must be those of the ReplicaSet becoming stable: a stable Service that still
      // selects another hash has not been switched yet, whatever its target group holds.
      const becoming = req.rollout.status?.stableRS;
      if (!report.error && report.podTemplateHash !== undefined && becoming && report.podTemplateHash !== becoming) {
        return hold(
          `Service ${ns}/${stable} still selects ${POD_TEMPLATE_HASH_LABEL}=${report.podTemplateHash}, not the ` +
            `ReplicaSet becoming stable (${becoming}, status.stableRS); Argo switches the selector first`,
          report.mode,
        );
      }
      if (report.verified) return { hold: false };
      return hold(report.error ?? (report.reasons.join('; ') || 'targets not verified'), report.mode);
    },
  };
}
