// What the routers are handed from outside: the final-switch guard's decision and the Kubernetes Events sink.
// Mode-neutral; every mode takes these.

import type { Rollout } from '../core/rollout.js';
import type { WeightStep } from '../core/weights.js';

export type GuardDecision = { hold: false } | { hold: true; reason: string };

/**
 * Asked before SetWeight moves traffic (in either mode); a `hold` keeps the current weights (canary 100) and
 * makes SetWeight fail with `reason`, so Argo neither switches traffic nor scales the old ReplicaSet down.
 */
export interface SetWeightGuard {
  beforeSetWeight(step: WeightStep): Promise<GuardDecision>;
}

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  /** One of src/events/reasons.ts (all start with `ALBPlugin`, unlike the built-in router's). */
  reason: string;
  message: string;
}

/** Kubernetes Events on the Rollout; the sink de-duplicates, callers just report. */
export interface EventSink {
  emit(rollout: Rollout, event: RolloutEvent): void;
}
