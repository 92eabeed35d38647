// Which rules of an HTTPRoute a Rollout drives: the one its plugin block names, or every rule naming both its
// stable and canary Services, never one the Rollout added itself (ownership.ts).

import type { GatewayConfig, RouteRef } from '../config.js';
import { indexOfService, RoutePlanError, routeLabel, ruleLabel, type HTTPRoute } from './model.js';
import { ownedBy, ownerKey } from './ownership.js';

/**
 * Indices of the rules the Rollout drives: the rule named by `ruleName`, or every rule naming both the stable
 * and the canary Service; never a rule the Rollout itself added. Refused when there is none.
 */
export function selectRules(route: HTTPRoute, ref: RouteRef, config: GatewayConfig): number[] {
  const rules = route.spec.rules ?? [];
  const owned = new Set(Object.keys(ownedBy(route, ownerKey(config)).rules));
  const { stable, canary } = config.services;
  const hint = (svc: string) => `{name: ${svc}, port: <Service port>, weight: 0}`;
  if (config.rule.kind === 'name') {
    const wanted = config.rule.name;
    const i = rules.findIndex((r) => r.name === wanted);
    if (i < 0) {
      throw new RoutePlanError(`${routeLabel(ref)} has no rule named "${wanted}" (${config.path}.ruleName); name the rule in spec.rules[].name`);
    }
    for (const svc of [stable, canary]) {
      if (indexOfService(rules[i]!, svc, config, ref) < 0) {
        throw new RoutePlanError(
          `${routeLabel(ref)} ${ruleLabel(rules[i]!, i)} has no backendRef for Service "${svc}"; SetWeight only changes weights, add ${hint(svc)} to its backendRefs`,
        );
      }
    }
    return [i];
  }
  const picked = rules
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => !(r.name && owned.has(r.name)))
    .filter(({ r }) => indexOfService(r, stable, config, ref) >= 0 && indexOfService(r, canary, config, ref) >= 0)
    .map(({ i }) => i);
  if (picked.length === 0) {
    throw new RoutePlanError(
      `${routeLabel(ref)} has no rule whose backendRefs name both the stable Service "${stable}" and the canary Service "${canary}"; ` +
        `add ${hint(canary)} next to the stable backendRef (or set ${config.path}.ruleName)`,
    );
  }
  return picked;
}
