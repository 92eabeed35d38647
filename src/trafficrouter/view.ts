// The one consistent reading of a Rollout: parsed config, ping-pong-resolved services, maximum weight and
// managed routes. SetWeight, the header routes, VerifyWeight and the final-switch guard all start here, so
// they can never disagree about which Service is stable.

import { effectiveServices } from '../pingpong/roles.js';
import { maxWeightOf, parsePluginConfig } from './config.js';
import type { RolloutContext } from './plans.js';
import type { Rollout, WeightDestination } from './rollout.js';
import type { WeightRequest } from './types.js';

export function rolloutContext(rollout: Rollout, pluginName: string): RolloutContext {
  const config = parsePluginConfig(rollout, pluginName);
  return {
    rolloutName: rollout.metadata.name,
    config,
    services: effectiveServices(rollout, config),
    managedRoutes: (rollout.spec.strategy.canary?.trafficRouting?.managedRoutes ?? []).map((r) => r.name),
  };
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
  return {
    rollout,
    config: ctx.config,
    services: ctx.services,
    desiredWeight,
    additionalDestinations,
    maxWeight: maxWeightOf(rollout),
  };
}
