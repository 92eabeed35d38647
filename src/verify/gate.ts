// When VerifyWeight is worth an AWS call. Argo asks a plugin on every reconcile (argo-alb-spec.md §11.5),
// so the plugin gates itself: at a setWeight step, at the end of the steps (desired = max weight), and
// after a weight change until that change is verified. A positive answer is remembered per
// (Rollout UID, Ingresses, weights) so a verified step is never re-checked.
import type { Rollout } from '../trafficrouter/rollout.js';
import type { WeightRequest } from '../trafficrouter/types.js';

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

/** What a verification result is remembered under. */
export function verificationKey(req: WeightRequest): string {
  return JSON.stringify([
    req.config.ingresses.map((i) => [i.name, i.servicePort]),
    req.services.stable,
    req.services.canary,
    req.desiredWeight,
    req.additionalDestinations.map((d) => [d.serviceName, d.weight]),
    req.maxWeight,
  ]);
}

/** `observed`: seen while gated off, never checked; `pending`: checked and not yet verified. */
export type SeenState = 'verified' | 'pending' | 'observed';

interface Seen {
  key: string;
  state: SeenState;
}

export type GateDecision =
  | { kind: 'remembered' }
  | { kind: 'skip' }
  | { kind: 'verify'; moment: VerifyMoment; key: string };

export class VerifyGate {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly maxEntries = 5000) {}

  decide(req: WeightRequest): GateDecision {
    const uid = req.rollout.metadata.uid ?? `${req.rollout.metadata.namespace ?? ''}/${req.rollout.metadata.name}`;
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

  record(uid: string, key: string, state: SeenState): void {
    if (this.seen.size >= this.maxEntries && !this.seen.has(uid)) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.delete(uid);
    this.seen.set(uid, { key, state });
  }

  uidOf(req: WeightRequest): string {
    return req.rollout.metadata.uid ?? `${req.rollout.metadata.namespace ?? ''}/${req.rollout.metadata.name}`;
  }
}
