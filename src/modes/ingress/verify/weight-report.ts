// A weight check turned into the report VerifyWeight judges and the HTTP API serves: within its deadline,
// with what failed and whether that passes by itself.
import type { WeightRequest } from '../view.js';
import { errorText, isTransientElbv2Failure } from '../../../verify/elbv2-failures.js';
import type { VerifyMoment } from '../../../verify/gate.js';
import { checkIngressWeights, type IngressWeightReport, type WeightCheckDeps } from './weight-check.js';

/** JSON-friendly result of one weight check, also served by the HTTP API. */
export interface WeightReport {
  rollout: string;
  verified: boolean;
  desiredWeight: number;
  maxWeight: number;
  /** Why the check ran, or why it did not (`disabled`, `gated`, `remembered`). */
  moment: VerifyMoment | 'disabled' | 'gated' | 'remembered' | 'requested';
  reasons: string[];
  /** Set when the check could not finish (AWS error, throttling, deadline). */
  error?: string;
  /**
   * The check could not finish for a reason that passes by itself (throttled past the retries, deadline,
   * 5xx, connection reset): VerifyWeight answers NotVerified without Err, so Argo asks again in 10 s.
   */
  transient?: boolean;
  ingresses: IngressWeightReport[];
}

function base(req: WeightRequest, moment: WeightReport['moment']) {
  return {
    rollout: `${req.rollout.metadata.namespace ?? 'default'}/${req.rollout.metadata.name}`,
    desiredWeight: req.desiredWeight,
    maxWeight: req.maxWeight,
    moment,
  };
}

/** Runs the check within `timeoutMs`; never throws. */
export async function weightReport(deps: WeightCheckDeps, req: WeightRequest, moment: WeightReport['moment'], timeoutMs: number): Promise<WeightReport> {
  const head = base(req, moment);
  const signal = AbortSignal.timeout(timeoutMs);
  const deadline = `no complete answer from ELBv2 within ${timeoutMs} ms (slow or throttled)`;
  try {
    const { ingresses, errors } = await checkIngressWeights(deps, req, signal);
    const reasons = ingresses.flatMap((i) => i.reasons);
    const verified = errors.length === 0 && ingresses.length > 0 && ingresses.every((i) => i.verified);
    if (errors.length === 0) return { ...head, verified, reasons, ingresses };
    if (signal.aborted) return { ...head, verified, reasons, ingresses, error: deadline, transient: true };
    const transient = errors.every((e) => e.transient);
    return { ...head, verified, reasons, ingresses, error: errors.map((e) => e.text).join('; '), ...(transient ? { transient } : {}) };
  } catch (err) {
    const text = signal.aborted ? deadline : errorText(err);
    const transient = signal.aborted || isTransientElbv2Failure(err);
    return { ...head, verified: false, reasons: [], ingresses: [], error: text, ...(transient ? { transient } : {}) };
  }
}

/** The report when `--aws-verify-target-group` is off: no AWS call. */
export function disabledReport(req: WeightRequest): WeightReport {
  return { ...base(req, 'disabled'), verified: false, reasons: ['AWS verification is off (--aws-verify-target-group)'], ingresses: [] };
}
