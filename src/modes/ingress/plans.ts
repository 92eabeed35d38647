// Pure planning: (live Ingress, Rollout view) → the edit that brings the Ingress where the Rollout wants it,
// or an empty edit when it is already there. Values are compared by meaning, never as strings, so a
// hand-formatted annotation with the same content is left alone.

import { isDeepStrictEqual } from 'node:util';
import { SOLE_WEIGHT } from '../../core/limits.js';
import type { SetHeaderRoute } from '../../core/rollout.js';
import { headerRouteMatches } from '../../core/routes.js';
import type { Ingress, IngressEdit, IngressRule } from '../../k8s/ingress.js';
import { encodeForwardAction, parseForwardAction, sameForwardAction, type ForwardAction } from './action.js';
import { albConditions, encodeConditions, sameJson } from './conditions.js';
import { checkActionBackend, checkClaims } from './checks.js';
import { actionKey, conditionKey } from './keys.js';
import {
  encodeManagedAnnotations,
  ownerOtherThan,
  parseManagedAnnotations,
  sameManagedAnnotations,
  withManagedKeys,
  withoutManagedKeys,
  type ManagedAnnotations,
} from './managed.js';
import { sortRoutePaths, withoutRoutePaths, withRoutePaths } from './paths.js';
import { ARGO_MANAGED_KEY, PLUGIN_MANAGED_KEY, type IngressTarget } from './types.js';
import type { RolloutContext } from './view.js';

/** Argo's map, for claims and hand-over only: unreadable means nothing can be claimed there (Argo skips it too). */
function readArgoManaged(ingress: Ingress): ManagedAnnotations {
  try {
    return parseManagedAnnotations(ingress.metadata.annotations?.[ARGO_MANAGED_KEY], ARGO_MANAGED_KEY);
  } catch {
    return new Map();
  }
}

/** Collects annotation changes against one Ingress snapshot. */
export class EditBuilder {
  readonly edit: IngressEdit = { annotations: {} };
  readonly managedBefore: ManagedAnnotations;
  managed: ManagedAnnotations;
  readonly argoManaged: ManagedAnnotations;

  constructor(readonly ingress: Ingress) {
    this.managedBefore = parseManagedAnnotations(ingress.metadata.annotations?.[PLUGIN_MANAGED_KEY]);
    this.managed = this.managedBefore;
    this.argoManaged = readArgoManaged(ingress);
  }

  /**
   * Takes the Rollout over from the built-in router: its entry in Argo's map goes in this same write.
   * Left there, Argo's Ingress controller would take it for an orphan and reset the action to 100 %.
   */
  handOver(rolloutName: string): void {
    if (!this.argoManaged.has(rolloutName)) return;
    const rest = new Map(this.argoManaged);
    rest.delete(rolloutName);
    this.edit.annotations[ARGO_MANAGED_KEY] = rest.size === 0 ? null : encodeManagedAnnotations(rest);
  }

  current(key: string): string | undefined {
    return this.ingress.metadata.annotations?.[key];
  }

  set(key: string, value: string, same: (current: string | undefined) => boolean): void {
    if (!same(this.current(key))) this.edit.annotations[key] = value;
  }

  delete(key: string): void {
    if (this.current(key) !== undefined) this.edit.annotations[key] = null;
  }

  setRules(rules: IngressRule[]): void {
    if (!isDeepStrictEqual(rules, this.ingress.spec?.rules ?? [])) this.edit.rules = rules;
  }

  /** Writes the managed map if its meaning changed; an empty map removes the key. */
  finish(): IngressEdit {
    if (!sameManagedAnnotations(this.managed, this.managedBefore)) {
      this.edit.annotations[PLUGIN_MANAGED_KEY] = this.managed.size === 0 ? null : encodeManagedAnnotations(this.managed);
    }
    return this.edit;
  }
}

function setAction(b: EditBuilder, key: string, action: ForwardAction): void {
  const want = encodeForwardAction(action);
  b.set(key, want, (current) => sameForwardAction(parseForwardAction(current), action));
}

/** SetWeight on one Ingress: the weighted action and its managed entry. */
export function planSetWeight(ingress: Ingress, ctx: RolloutContext, action: ForwardAction): IngressEdit {
  const { config, services, rolloutName } = ctx;
  checkActionBackend(ingress, services.action, config.annotationPrefix);
  const b = new EditBuilder(ingress);
  const key = actionKey(config.annotationPrefix, services.action);
  checkClaims(ingress, b.managed, b.argoManaged, rolloutName, [key]);
  setAction(b, key, action);
  b.managed = withManagedKeys(b.managed, rolloutName, [key]);
  b.handOver(rolloutName);
  return b.finish();
}

/** SetHeaderRoute on one Ingress: adds (match given) or removes (no match) the route. */
export function planSetHeaderRoute(ingress: Ingress, ctx: RolloutContext, target: IngressTarget, route: SetHeaderRoute): IngressEdit {
  const { config, services, rolloutName } = ctx;
  const matches = headerRouteMatches(route, ctx.managedRoutes);
  const b = new EditBuilder(ingress);
  const aKey = actionKey(config.annotationPrefix, route.name);
  const cKey = conditionKey(config.annotationPrefix, route.name);
  checkClaims(ingress, b.managed, b.argoManaged, rolloutName, [aKey, cKey]);
  let rules = ingress.spec?.rules ?? [];
  if (matches.length > 0) {
    checkActionBackend(ingress, services.action, config.annotationPrefix);
    const conditions = encodeConditions(albConditions(matches));
    const action: ForwardAction = { targetGroups: [{ serviceName: services.canary, servicePort: target.servicePort, weight: SOLE_WEIGHT }] };
    if (config.stickinessConfig?.enabled) action.stickiness = { ...config.stickinessConfig };
    setAction(b, aKey, action);
    b.set(cKey, conditions, (current) => sameJson(current, conditions));
    b.managed = withManagedKeys(b.managed, rolloutName, [aKey, cKey]);
    b.handOver(rolloutName);
    rules = withRoutePaths(rules, services.action, route.name);
  } else {
    b.delete(aKey);
    b.delete(cKey);
    b.managed = withoutManagedKeys(b.managed, rolloutName, [aKey, cKey]);
    rules = withoutRoutePaths(rules, route.name);
  }
  b.setRules(sortRoutePaths(rules, ctx.managedRoutes));
  return b.finish();
}

/** RemoveManagedRoutes on one Ingress; routes another Rollout owns are left alone. */
export function planRemoveManagedRoutes(ingress: Ingress, ctx: RolloutContext): IngressEdit {
  const { config, rolloutName } = ctx;
  const b = new EditBuilder(ingress);
  let rules = ingress.spec?.rules ?? [];
  for (const route of ctx.managedRoutes) {
    const aKey = actionKey(config.annotationPrefix, route);
    const cKey = conditionKey(config.annotationPrefix, route);
    const owned = (m: ManagedAnnotations): boolean =>
      ownerOtherThan(m, rolloutName, aKey) !== undefined || ownerOtherThan(m, rolloutName, cKey) !== undefined;
    if (owned(b.managed) || owned(b.argoManaged)) continue;
    b.delete(aKey);
    b.delete(cKey);
    b.managed = withoutManagedKeys(b.managed, rolloutName, [aKey, cKey]);
    rules = withoutRoutePaths(rules, route);
  }
  b.setRules(rules);
  return b.finish();
}
