// The argument converters the Plugin service uses in production: the Go-tree → Kubernetes-JSON conversions
// of rollout-json.ts, gathered behind the small interface dispatch.ts needs.

import type { ArgConverters } from './dispatch.js';
import { goRolloutToJson, goSetHeaderRouteToJson, goSetMirrorRouteToJson, goWeightDestinationsToJson } from './rollout-json.js';

export const rolloutArgConverters: ArgConverters = {
  rollout: goRolloutToJson,
  weightDestinations: goWeightDestinationsToJson,
  setHeaderRoute: goSetHeaderRouteToJson,
  setMirrorRoute: goSetMirrorRouteToJson,
};
