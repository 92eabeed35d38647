// When VerifyWeight is worth an AWS call. Argo calls a plugin's VerifyWeight on every reconcile
// (argo-rollouts rollout/trafficrouting.go, reconcileTrafficRouting; its built-in ALB router checks only when
// rolloututil.ShouldVerifyWeight says so, rollout/trafficrouting/alb/alb.go), so the plugin gates itself: at a
// setWeight step, at the end of the steps (desired = max weight), and after a weight change until that change is
// verified. A positive answer is remembered per (Rollout UID, target, weights) so a verified step is never
// re-checked, until a write changes what carries the Rollout's weights (`invalidate`, called by the routers):
// then the next call checks again. Every mode uses it through the shared verdict path (verdict.ts) and the
// mode-neutral WeightStep (src/core/weights.ts).
import type { Rollout } from '../core/rollout.js';
import type { WeightStep } from '../core/weights.js';

export type VerifyMoment = 'setWeight step' | 'end of steps' | 'weight change';

export function isFullyPromoted(rollout: Rollout): boolean {
  const s = rollout.status;
  return !!s?.stableRS && s.stableRS === s.currentPodHash;
}

/** The step-based part of the gate (Argo's `ShouldVerifyWeight`, with maxTrafficWeight instead of 100). */
export function stepMoment(rollout: Rollout, desiredWeight: number, maxWeight: number): VerifyMoment | undefined {
  const status = rollout.status;
  if (!status?.stableRS || isFullyPromoted(rollout)) return undefined;
  const steps = rollout.spec.strategy.canary?.steps ?? [];
  const idx = status.currentStepIndex;
  const step = idx !== undefined && idx !== null && idx >= 0 && idx < steps.length ? steps[idx] : undefined;
  if (step && step.setWeight !== undefined && step.setWeight !== null) return 'setWeight step';
  if (!step && desiredWeight === maxWeight) return 'end of steps';
  return undefined;
}

/** The key the gate keeps a Rollout under: its UID, or namespace/name without one. */
export function rolloutUid(rollout: Rollout): string {
  return rollout.metadata.uid ?? `${rollout.metadata.namespace ?? ''}/${rollout.metadata.name}`;
}

/** What a verification result is remembered under. */
export function verificationKey(step: WeightStep): string {
  return JSON.stringify([
    step.target,
    step.services.stable,
    step.services.canary,
    step.desiredWeight,
    step.additionalDestinations.map((d) => [d.serviceName, d.weight]),
    step.maxWeight,
  ]);
}

/** `observed`: seen while gated off, never checked; `pending`: checked and not yet verified. */
export type SeenState = 'verified' | 'pending' | 'observed';

interface Seen {
  key: string;
  state: SeenState;
  /** Writes to what carries the Rollout's weights seen so far (see `invalidate`). */
  writes: number;
}

export type GateDecision =
  | { kind: 'remembered' }
  | { kind: 'skip' }
  | { kind: 'verify'; moment: VerifyMoment; key: string };

export class VerifyGate {
  private readonly seen = new Map<string, Seen>();
  /** The last verdict logged per Rollout (`noteVerdict`), bounded like `seen`. */
  private readonly verdicts = new Map<string, string>();

  constructor(private readonly maxEntries = 5000) {}

  decide(req: WeightStep): GateDecision {
    const uid = this.uidOf(req);
    const key = verificationKey(req);
    const prev = this.seen.get(uid);
    if (prev?.key === key && prev.state === 'verified') return { kind: 'remembered' };
    const step = stepMoment(req.rollout, req.desiredWeight, req.maxWeight);
    if (step) return { kind: 'verify', moment: step, key };
    // A change we saw happen, or one not yet verified. After a restart (nothing seen) a fully promoted
    // Rollout is left alone: otherwise every Rollout in the cluster would be checked at once.
    const changed = prev
      ? prev.key !== key || prev.state === 'pending'
      : !!req.rollout.status?.stableRS && !isFullyPromoted(req.rollout);
    if (changed) return { kind: 'verify', moment: 'weight change', key };
    // Remember what was seen so the next different weights count as a change.
    if (!prev) this.record(uid, key, 'observed');
    return { kind: 'skip' };
  }

  /**
   * Records the outcome of a check. `writesAtStart` (from `writesOf` before the check) makes a "verified"
   * that raced a write count as pending: the load balancer was read before the write could reach it.
   */
  record(uid: string, key: string, state: SeenState, writesAtStart?: number): void {
    const writes = this.writesOf(uid);
    const raced = state === 'verified' && writesAtStart !== undefined && writesAtStart !== writes;
    this.put(uid, { key, state: raced ? 'pending' : state, writes });
  }

  /**
   * A write changed what carries the Rollout's weights (an Ingress, the listener rule, an HTTPRoute): whatever
   * was verified before may no longer hold on the load balancer, so the next call checks again (also for a
   * Rollout not seen yet, and outside the step moments, as for any weight change), and a check running now
   * is not remembered (`record`).
   */
  invalidate(uid: string): void {
    const prev = this.seen.get(uid);
    this.put(uid, { key: prev?.key ?? '', state: 'pending', writes: this.writesOf(uid) + 1 });
  }

  /** Records a verdict's summary; true when it differs from the last one noted for the Rollout (log it once). */
  noteVerdict(uid: string, summary: string): boolean {
    if (this.verdicts.get(uid) === summary) return false;
    this.verdicts.delete(uid);
    this.verdicts.set(uid, summary);
    while (this.verdicts.size > this.maxEntries) this.verdicts.delete(this.verdicts.keys().next().value as string);
    return true;
  }

  writesOf(uid: string): number {
    return this.seen.get(uid)?.writes ?? 0;
  }

  uidOf(req: WeightStep): string {
    return rolloutUid(req.rollout);
  }

  private put(uid: string, seen: Seen): void {
    if (this.seen.size >= this.maxEntries && !this.seen.has(uid)) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.delete(uid);
    this.seen.set(uid, seen);
  }
}
