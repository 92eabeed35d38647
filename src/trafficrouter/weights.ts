// The weighted action a Rollout wants: canary first, experiment destinations in the order given, stable
// last with what is left of maxTrafficWeight. Everything ALB would refuse is refused here, before any write.

import type { ForwardAction, TargetGroupTuple } from './action.js';
import { MAX_ALB_WEIGHT } from './config.js';
import type { IngressTarget, WeightRequest } from './types.js';

/** ALB forwards to at most 5 target groups per action. */
export const MAX_TARGET_GROUPS = 5;

export class WeightError extends Error {
  override name = 'WeightError';
}

function checkWeight(weight: number, what: string, max: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > max) {
    throw new WeightError(`${what} weight ${weight} is out of range; it must be a whole number from 0 to ${max}`);
  }
}

/** Desired tuples for one Ingress (its own port), validated against ALB's limits. */
export function desiredTargetGroups(req: WeightRequest, target: IngressTarget): TargetGroupTuple[] {
  const { desiredWeight, additionalDestinations, maxWeight, services } = req;
  checkWeight(desiredWeight, 'canary', maxWeight);
  additionalDestinations.forEach((d, i) => {
    if (!d.serviceName) throw new WeightError(`additional destination ${i} has no serviceName; each experiment template needs a Service`);
    checkWeight(d.weight, `experiment ${d.serviceName}`, MAX_ALB_WEIGHT);
  });
  const count = 2 + additionalDestinations.length;
  if (count > MAX_TARGET_GROUPS) {
    throw new WeightError(
      `${count} target groups requested (canary, stable and ${additionalDestinations.length} experiment services); ` +
        `ALB forwards to at most ${MAX_TARGET_GROUPS}; use at most ${MAX_TARGET_GROUPS - 2} weighted experiment templates`,
    );
  }
  const extra = additionalDestinations.reduce((sum, d) => sum + d.weight, 0);
  const stable = maxWeight - desiredWeight - extra;
  if (stable < 0) {
    throw new WeightError(
      `canary ${desiredWeight} plus experiments ${extra} exceed the total ${maxWeight}; stable would get ${stable}. ` +
        'Lower the setWeight or experiment weights (or raise maxTrafficWeight)',
    );
  }
  const port = target.servicePort;
  return [
    { serviceName: services.canary, servicePort: port, weight: desiredWeight },
    ...additionalDestinations.map((d) => ({ serviceName: d.serviceName, servicePort: port, weight: d.weight })),
    { serviceName: services.stable, servicePort: port, weight: stable },
  ];
}

export function desiredForwardAction(req: WeightRequest, target: IngressTarget): ForwardAction {
  const action: ForwardAction = { targetGroups: desiredTargetGroups(req, target) };
  if (req.config.stickinessConfig?.enabled) action.stickiness = { ...req.config.stickinessConfig };
  return action;
}

export interface IngressWeights {
  ingress: IngressTarget;
  /** Canary, experiments, stable: exactly what SetWeight writes into this Ingress's action. */
  targetGroups: TargetGroupTuple[];
}

/** Desired tuples for every Ingress of the Rollout, in spec order (what a verifier should find on the ALB). */
export function desiredWeightsByIngress(req: WeightRequest): IngressWeights[] {
  return req.config.ingresses.map((ingress) => ({ ingress, targetGroups: desiredTargetGroups(req, ingress) }));
}
