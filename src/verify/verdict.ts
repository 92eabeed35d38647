// VerifyWeight's one gated verdict path, for every mode. Argo calls a plugin's VerifyWeight on every reconcile
// (argo-rollouts rollout/trafficrouting.go, reconcileTrafficRouting), so each mode hands this path its own check of
// the load balancer and the rest is the same everywhere:
//   gate (gate.ts: a remembered verdict → Verified; nothing worth an AWS call now → NotImplemented)
//   → check (the mode's; a failure it throws becomes the report's error, never an exception out of VerifyWeight)
//   → remember (verified, or pending; a verdict that raced a write stays pending: the load balancer was read before
//     the write could reach it)
//   → one debug line (an info line only when the verdict changed) → the verdict Event → the answer.
// The answer follows what Argo does with it in the same function: NotVerified re-queues the Rollout after
// defaults.GetRolloutVerifyRetryInterval() (10 s, utils/defaults/defaults.go), while an Err only records a
// WeightVerifyError event and waits for the next resync. So "not yet", and failures that pass by themselves
// (elbv2-failures.ts), answer without Err; an Err is for configuration errors, which stay until someone fixes them.

import { stableWeight, type WeightStep } from '../core/weights.js';
import { REASON_LOAD_BALANCER_NOT_FOUND, REASON_WEIGHT_UNVERIFIED, REASON_WEIGHT_VERIFIED } from '../events/reasons.js';
import type { Logger } from '../logger.js';
import type { EventSink, RolloutEvent } from '../plugin/hooks.js';
import { RpcVerified, type VerifyWeightResult } from '../plugin/router.js';
import { thrownFailure } from './elbv2-failures.js';
import type { VerifyGate, VerifyMoment } from './gate.js';

/** What every mode's weight check reports, as far as the verdict goes (each mode's report adds its details). */
export interface VerdictReport {
  verified: boolean;
  /** Why the weights are not (yet) in place; empty when verified. */
  reasons: string[];
  /** The check could not finish (AWS error, throttling, deadline, a configuration problem). */
  error?: string;
  /** `error` passes by itself (throttled past the retries, deadline, 5xx, connection reset). */
  transient?: boolean;
}

export interface VerdictDeps {
  /** The mode's gate; its writes call `gate.invalidate` so that a remembered verdict never outlives them. */
  gate: VerifyGate;
  events?: EventSink;
  log?: Logger;
  /** For the debug line: `ingress`, `listener-rule`, `gateway`. */
  mode: string;
  /** Where verified weights were read, for the Normal Event: `on the load balancers`. */
  where: string;
}

/** One VerifyWeight's check, as a mode hands it to `gatedVerdict`. */
export interface VerdictCheck<R extends VerdictReport> {
  /**
   * The check's deadline, made only when the check runs (not for an answer from the gate). A failure thrown once
   * it has fired is a deadline, and passes by itself. Without one the check has no deadline of its own.
   */
  deadline?(): AbortSignal;
  /** Reads the load balancer within `signal`; may throw. */
  run(moment: VerifyMoment, signal: AbortSignal): Promise<R>;
  /** More fields for the debug line (ELBv2 calls made, ...). */
  logFields?(report: R): Record<string, unknown>;
}

/** The Event a verdict leaves on the Rollout (the sink de-duplicates); none for "not verified" without a reason. */
export function verdictEvent(step: WeightStep, report: VerdictReport, where: string): RolloutEvent | undefined {
  if (report.verified) {
    return {
      type: 'Normal',
      reason: REASON_WEIGHT_VERIFIED,
      message: `Weights verified ${where}: canary ${step.desiredWeight}, stable ${stableWeight(step)}`,
    };
  }
  if (report.error) {
    return { type: 'Warning', reason: REASON_WEIGHT_UNVERIFIED, message: report.transient ? `${report.error}; checking again` : report.error };
  }
  const first = report.reasons[0];
  if (first === undefined) return undefined;
  const lbMissing = first.startsWith('no load balancer found');
  return { type: 'Warning', reason: lbMissing ? REASON_LOAD_BALANCER_NOT_FOUND : REASON_WEIGHT_UNVERIFIED, message: first };
}

/** The RPC answer: an Err only for a failure that does not pass by itself (see the header). */
export function verdictAnswer(report: VerdictReport): VerifyWeightResult {
  if (report.verified) return { verified: RpcVerified.Verified };
  return report.error && !report.transient
    ? { verified: RpcVerified.NotVerified, err: `weight verification failed: ${report.error}` }
    : { verified: RpcVerified.NotVerified };
}

/** Gate → check → remember → debug line → Event → answer (see the header). Never throws for a failed check. */
export async function gatedVerdict<R extends VerdictReport>(deps: VerdictDeps, step: WeightStep, check: VerdictCheck<R>): Promise<VerifyWeightResult> {
  const { gate } = deps;
  const decision = gate.decide(step);
  if (decision.kind === 'remembered') return { verified: RpcVerified.Verified };
  if (decision.kind === 'skip') return { verified: RpcVerified.NotImplemented };
  const uid = gate.uidOf(step);
  const writes = gate.writesOf(uid);
  const signal = check.deadline?.() ?? new AbortController().signal;
  let report: VerdictReport;
  let extra: Record<string, unknown> = {};
  try {
    const r = await check.run(decision.moment, signal);
    report = r;
    extra = check.logFields?.(r) ?? {};
  } catch (err) {
    report = { verified: false, reasons: [], ...thrownFailure(err, signal) };
  }
  gate.record(uid, decision.key, report.verified ? 'verified' : 'pending', writes);
  const { namespace, name } = step.rollout.metadata;
  deps.log?.debug(
    {
      mode: deps.mode,
      rollout: `${namespace ?? 'default'}/${name}`,
      moment: decision.moment,
      desiredWeight: step.desiredWeight,
      verified: report.verified,
      reasons: report.reasons,
      error: report.error,
      ...(report.transient ? { transient: true } : {}),
      ...extra,
    },
    'weight verification',
  );
  // One info line when the verdict changes (a new step verified, or why it is not); nothing more per poll.
  const why = report.verified ? undefined : (report.error ?? report.reasons[0] ?? 'not verified');
  if (gate.noteVerdict(uid, JSON.stringify([decision.key, report.verified, why]))) {
    deps.log?.info(
      { mode: deps.mode, rollout: `${namespace ?? 'default'}/${name}`, desiredWeight: step.desiredWeight, stableWeight: stableWeight(step), verified: report.verified, reason: why },
      report.verified ? 'weights verified on the load balancer' : 'weights not verified yet',
    );
  }
  const event = verdictEvent(step, report, deps.where);
  if (event) deps.events?.emit(step.rollout, event);
  return verdictAnswer(report);
}
