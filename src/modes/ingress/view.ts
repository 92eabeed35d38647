// Ingress mode's one consistent reading of a Rollout: parsed config, ping-pong-resolved services, maximum
// weight and managed routes (the shared rules from src/core). SetWeight, the header routes, VerifyWeight and
// the final-switch guard all start here, so they can never disagree about which Service is stable.

import type { Rollout, WeightDestination } from '../../core/rollout.js';
import { managedRoutes } from '../../core/routes.js';
import { serviceRoles, type ServiceRoles } from '../../core/services.js';
import { maxTrafficWeight, weightStep, type WeightStep } from '../../core/weights.js';
import { parsePluginConfig } from './config.js';
import type { VerifyWeightResult } from '../../plugin/router.js';
import type { AlbPluginConfig } from './types.js';

/** The services that get the weights, after ping-pong resolution, and the backend whose action is rewritten. */
export interface EffectiveServices extends ServiceRoles {
  /** rootService, else stableService. */
  action: string;
}

/** What a plan needs to know about the Rollout besides the weights. */
export interface RolloutContext {
  rolloutName: string;
  config: AlbPluginConfig;
  services: EffectiveServices;
  /** `trafficRouting.managedRoutes` names, in order. */
  managedRoutes: string[];
}

/** One weight step of an Ingress-mode Rollout: what SetWeight writes, VerifyWeight checks and the guard sees. */
export interface WeightRequest extends WeightStep {
  config: AlbPluginConfig;
  services: EffectiveServices;
}

export function effectiveServices(rollout: Rollout, config: AlbPluginConfig): EffectiveServices {
  const roles = serviceRoles(rollout);
  // parsePluginConfig requires rootService with ping-pong; the ping/pong names never become the key.
  return { ...roles, action: config.rootService ?? (roles.pingPong ? '' : roles.stable) };
}

export function rolloutContext(rollout: Rollout, pluginName: string): RolloutContext {
  const config = parsePluginConfig(rollout, pluginName);
  return {
    rolloutName: rollout.metadata.name,
    config,
    services: effectiveServices(rollout, config),
    managedRoutes: managedRoutes(rollout),
  };
}

/** The identity of what an Ingress-mode Rollout's weights are written to: its Ingresses and their ports. */
export function ingressesTarget(config: AlbPluginConfig): Array<[string, number]> {
  return config.ingresses.map((i) => [i.name, i.servicePort]);
}

/** What VerifyWeight and the guard receive for a weight; desired tuples come from `desiredTargetGroups`. */
export function weightRequest(
  rollout: Rollout,
  pluginName: string,
  desiredWeight: number,
  additionalDestinations: WeightDestination[] = [],
): WeightRequest {
  return weightRequestFrom(rolloutContext(rollout, pluginName), rollout, desiredWeight, additionalDestinations);
}

export function weightRequestFrom(
  ctx: RolloutContext,
  rollout: Rollout,
  desiredWeight: number,
  additionalDestinations: WeightDestination[],
): WeightRequest {
  const step = weightStep(rollout, { mode: 'ingress', target: ingressesTarget(ctx.config), services: ctx.services, desiredWeight, additionalDestinations, maxWeight: maxTrafficWeight(rollout) });
  return { ...step, config: ctx.config, services: ctx.services };
}

/** Checks ELBv2 for the weights an Ingress asks for (src/verify). */
export interface WeightVerifier {
  verifyWeight(req: WeightRequest): Promise<VerifyWeightResult>;
}
