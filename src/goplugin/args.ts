// The arguments of both Plugin services, the traffic router's (dispatch.ts) and the metric provider's
// (metric-dispatch.ts): the gob interface Argo sends, unwrapped and checked against the name Argo registers the
// argument struct under (`invalid args` like Argo's Go stub otherwise), and the Go-tree → Kubernetes-JSON
// conversions of the traffic router's fields (rollout-json.ts in production).

import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../core/rollout.js';
import { GobInterface, isGobStruct, type GobStruct, type GobValue } from './gob/values.js';
import { goRolloutToJson, goSetHeaderRouteToJson, goSetMirrorRouteToJson, goWeightDestinationsToJson } from './rollout-json.js';

/** An argument struct of the wrong type: answered with a net/rpc error, as Argo's Go stub does. */
export class InvalidArgsError extends Error {
  override readonly name = 'InvalidArgsError';
}

function describe(body: GobValue): string {
  if (body instanceof GobInterface) return `interface ${JSON.stringify(body.name)}`;
  if (body === null) return 'nil';
  return typeof body;
}

/** Unwraps the interface and checks its registered name; `invalid args` like Argo's Go stub otherwise. */
export function args(body: GobValue, name: string): GobStruct {
  if (!(body instanceof GobInterface) || body.name !== name || !isGobStruct(body.value)) {
    throw new InvalidArgsError(`invalid args: expected ${name}, got ${describe(body)}`);
  }
  return body.value;
}

/** Go tree → JSON shape conversions of the traffic router's argument fields. */
export interface ArgConverters {
  rollout(go: GobValue): Rollout;
  weightDestinations(go: GobValue | undefined): WeightDestination[];
  setHeaderRoute(go: GobValue | undefined): SetHeaderRoute;
  setMirrorRoute(go: GobValue | undefined): SetMirrorRoute;
}

/** The converters the Plugin service uses in production (rollout-json.ts). */
export const rolloutArgConverters: ArgConverters = {
  rollout: goRolloutToJson,
  weightDestinations: goWeightDestinationsToJson,
  setHeaderRoute: goSetHeaderRouteToJson,
  setMirrorRoute: goSetMirrorRouteToJson,
};
