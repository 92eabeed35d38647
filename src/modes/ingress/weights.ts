// The weighted action an Ingress gets: the Rollout's desired weights (src/core/weights.ts, validated there)
// as target-group tuples carrying the Ingress's own servicePort.

import { desiredWeights } from '../../core/weights.js';
import type { ForwardAction, TargetGroupTuple } from './action.js';
import type { IngressTarget } from './types.js';
import type { WeightRequest } from './view.js';

/** Desired tuples for one Ingress (its own port), validated against ALB's limits. */
export function desiredTargetGroups(req: WeightRequest, target: IngressTarget): TargetGroupTuple[] {
  return desiredWeights(req).map((d) => ({ serviceName: d.service, servicePort: target.servicePort, weight: d.weight }));
}

export function desiredForwardAction(req: WeightRequest, target: IngressTarget): ForwardAction {
  const action: ForwardAction = { targetGroups: desiredTargetGroups(req, target) };
  if (req.config.stickinessConfig?.enabled) action.stickiness = { ...req.config.stickinessConfig };
  return action;
}
