// The Kubernetes Events a weight verification leaves on the Rollout (the sink de-duplicates them).
import { stableWeight } from '../../../core/weights.js';
import { REASON_LOAD_BALANCER_NOT_FOUND, REASON_WEIGHT_UNVERIFIED, REASON_WEIGHT_VERIFIED } from '../../../events/reasons.js';
import type { EventSink } from '../../../plugin/hooks.js';
import type { WeightRequest } from '../view.js';
import type { WeightReport } from './weight-report.js';

export function emitWeightEvent(events: EventSink, req: WeightRequest, report: WeightReport): void {
  if (report.verified) {
    events.emit(req.rollout, {
      type: 'Normal',
      reason: REASON_WEIGHT_VERIFIED,
      message: `Weights verified on the load balancers: canary ${req.desiredWeight}, stable ${stableWeight(req)}`,
    });
  } else if (report.error && report.transient) {
    events.emit(req.rollout, { type: 'Warning', reason: REASON_WEIGHT_UNVERIFIED, message: `${report.error}; checking again` });
  } else if (report.reasons.length > 0) {
    const lbMissing = report.reasons.find((r) => r.startsWith('no load balancer found'));
    events.emit(req.rollout, {
      type: 'Warning',
      reason: lbMissing ? REASON_LOAD_BALANCER_NOT_FOUND : REASON_WEIGHT_UNVERIFIED,
      message: report.reasons[0]!,
    });
  }
}
