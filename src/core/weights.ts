// The weights a Rollout wants, as every mode writes them: canary first, experiment destinations in the order
// given, stable last with what is left of maxTrafficWeight. Everything an ALB would refuse is refused here,
// before any read or write. A mode maps each destination to what it writes (an Ingress action's service and
// port, a listener rule's target group).

import { ConfigError, describeValue, ROUTING } from './fields.js';
import { DEFAULT_MAX_WEIGHT, MAX_ALB_WEIGHT, MAX_TARGET_GROUPS } from './limits.js';
import type { Rollout, WeightDestination } from './rollout.js';
import type { ServiceRoles } from './services.js';

export class WeightError extends Error {
  override name = 'WeightError';
}

/** `trafficRouting.maxTrafficWeight`, 100 when absent; an ALB allows up to 999. */
export function maxTrafficWeight(rollout: Rollout): number {
  const max = rollout.spec.strategy.canary?.trafficRouting?.maxTrafficWeight;
  if (max === undefined || max === null) return DEFAULT_MAX_WEIGHT;
  if (!Number.isInteger(max) || max < 1 || max > MAX_ALB_WEIGHT) {
    throw new ConfigError(`${ROUTING}.maxTrafficWeight`, `${describeValue(max)} is out of range; ALB weights go from 1 to ${MAX_ALB_WEIGHT}`);
  }
  return max;
}

/**
 * One SetWeight or VerifyWeight of a Rollout, as every mode sees it: what the verifier's gate remembers a
 * verdict under, and what the final-switch guard looks at.
 */
export interface WeightStep {
  rollout: Rollout;
  /**
   * What carries the weights, as an identity: the Ingresses and their ports, or the listener rule and its
   * target groups. A remembered verdict holds for one target only.
   */
  target: string;
  services: ServiceRoles;
  desiredWeight: number;
  additionalDestinations: WeightDestination[];
  /** `maxTrafficWeight`, 100 when absent. */
  maxWeight: number;
}

/**
 * The one way a mode builds its step: `target` is the identity of what carries the weights in that mode (the
 * Ingresses and their ports; the listener rule and its target groups; the HTTPRoutes and rule selector), kept
 * under the mode's name so no two modes' targets can be equal.
 */
export function weightStep(
  rollout: Rollout,
  step: { mode: string; target: unknown; services: ServiceRoles; desiredWeight: number; additionalDestinations: WeightDestination[]; maxWeight: number },
): WeightStep {
  return {
    rollout,
    target: JSON.stringify([step.mode, step.target]),
    services: step.services,
    desiredWeight: step.desiredWeight,
    additionalDestinations: step.additionalDestinations,
    maxWeight: step.maxWeight,
  };
}

/** The part of a step the weights are computed from. */
export type WeightInput = Pick<WeightStep, 'desiredWeight' | 'additionalDestinations' | 'maxWeight'> & {
  services: Pick<ServiceRoles, 'stable' | 'canary'>;
};

export type DestinationRole = 'canary' | 'experiment' | 'stable';

export interface DesiredWeight {
  role: DestinationRole;
  /** The Service (for the stable and canary roles '' when the Rollout names none). */
  service: string;
  weight: number;
}

function checkWeight(weight: number, what: string, max: number): void {
  if (!Number.isInteger(weight) || weight < 0 || weight > max) {
    throw new WeightError(`${what} weight ${weight} is out of range; it must be a whole number from 0 to ${max}`);
  }
}

/** What the stable Service gets: maxTrafficWeight minus the canary and every experiment (negative when they exceed it). */
export function stableWeight(input: Omit<WeightInput, 'services'>): number {
  return input.maxWeight - input.desiredWeight - input.additionalDestinations.reduce((sum, d) => sum + d.weight, 0);
}

/** Canary, experiments in the order given, stable last: validated against an ALB's limits. */
export function desiredWeights(input: WeightInput): DesiredWeight[] {
  const { desiredWeight, additionalDestinations, maxWeight, services } = input;
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
  const stable = stableWeight(input);
  if (stable < 0) {
    throw new WeightError(
      `canary ${desiredWeight} plus experiments ${extra} exceed the total ${maxWeight}; stable would get ${stable}. ` +
        'Lower the setWeight or experiment weights (or raise maxTrafficWeight)',
    );
  }
  return [
    { role: 'canary', service: services.canary, weight: desiredWeight },
    ...additionalDestinations.map((d): DesiredWeight => ({ role: 'experiment', service: d.serviceName, weight: d.weight })),
    { role: 'stable', service: services.stable, weight: stable },
  ];
}

/** The weight Argo last set (status.canary.weights); 0, i.e. all on stable, before it set any. */
export function currentWeights(rollout: Rollout): { desired: number; additional: WeightDestination[] } {
  const w = rollout.status?.canary?.weights;
  return { desired: w?.canary?.weight ?? 0, additional: w?.additional ?? [] };
}
