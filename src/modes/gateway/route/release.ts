// Releasing one Rollout's entry on an HTTPRoute from the route alone (the sweep: the Rollout is gone, or no longer
// names the route): its header rules go, the driven rules' weights go back to all on the stable Service its entry
// records (experiment backendRefs it added go too), and the entry goes; one guarded JSON patch. An entry an older
// sidecar wrote names no Services: its header rules and the entry go, the weights are left as they are.

import { desiredWeights } from '../../../core/weights.js';
import type { GatewayConfig, RouteRef } from '../config.js';
import { removeRules } from './header-rules.js';
import { RoutePlanError, routeLabel, type HTTPRoute } from './model.js';
import { bookkeepingOps, OWNED_ANNOTATION, ownedBy, owners, parseOwnerKey, type ReleaseRecord } from './ownership.js';
import { PatchBuilder, type Plan } from './plan.js';
import { planWeights } from './weights.js';

export interface OwnerReleasePlan extends Plan {
  /** Why the weights were left as they are; absent when they are back on stable (or the entry held no weights). */
  weightsLeft?: string;
}

/** The Gateway config a release of `owner` on `ref` works from, rebuilt from its release record. */
export function recordConfig(owner: string, ref: RouteRef, rec: ReleaseRecord, pluginName: string): GatewayConfig {
  const who = parseOwnerKey(owner);
  if (!who) throw new RoutePlanError(`${routeLabel(ref)}: ${OWNED_ANNOTATION} entry "${owner}" is not <namespace>/<rollout>`);
  return {
    pluginName,
    namespace: who.namespace,
    rolloutName: who.name,
    path: `${OWNED_ANNOTATION}["${owner}"] of ${routeLabel(ref)}`,
    routes: [ref],
    singleRoute: true,
    rule: rec.ruleName !== undefined ? { kind: 'name', name: rec.ruleName } : { kind: 'services' },
    services: { stable: rec.stable, canary: rec.canary, pingPong: false },
    maxWeight: rec.maxWeight ?? 100,
    managedRoutes: [],
  };
}

/** The release of `owner`'s entry on `route`; no ops when the route records nothing for it. */
export function planReleaseOwner(route: HTTPRoute, ref: RouteRef, owner: string, pluginName: string): OwnerReleasePlan {
  if (!owners(route).includes(owner)) return { ops: [], after: route };
  const owned = ownedBy(route, owner);
  const b = new PatchBuilder(route);
  removeRules(b, new Set(Object.keys(owned.rules)));
  let weightsLeft: string | undefined;
  if (!owned.release) {
    // Written before entries carried the stable Service: which backendRef gets the weight back is not known.
    weightsLeft =
      "the entry was written by an older sidecar and does not name the Rollout's stable Service; set the weights of the driven rules by hand" +
      (owned.backends.length > 0 ? ` and remove the experiment backendRefs ${owned.backends.join(', ')}` : '');
  } else {
    try {
      const config = recordConfig(owner, ref, owned.release, pluginName);
      const stableOnly = desiredWeights({ desiredWeight: 0, additionalDestinations: [], maxWeight: config.maxWeight, services: config.services });
      const weights = planWeights(b.work, ref, config, stableOnly);
      b.push(...weights.ops.filter((op) => !(op.op === 'test' && op.path === '/metadata/resourceVersion')));
    } catch (err) {
      if (!(err instanceof RoutePlanError)) throw err;
      weightsLeft = `the weights cannot be set back from the entry: ${err.message}`;
    }
  }
  // Whatever the weight plan recorded, the entry goes: the Rollout holds nothing here any more.
  b.push(...bookkeepingOps(b.work, owner, { rules: {}, backends: [] }));
  return { ops: b.finish(), after: b.work, ...(weightsLeft !== undefined ? { weightsLeft } : {}) };
}
