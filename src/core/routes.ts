// The routes a Rollout's steps ask for. Header routes (setHeaderRoute) send matching requests to the canary
// whatever the weights: the Rollout's matches become a neutral condition list, one condition per header name
// (values of one name ORed, the conditions ANDed), each value an exact or a prefix match, which a mode
// renders (an Ingress's `conditions.<route>` annotation, a listener rule's http-header conditions). ALB
// matches header values with `*` and `?` wildcards only: `regex` is refused here, and the ALB's
// condition-value quota is checked here. Mirror routes (setMirrorRoute) are refused: an ALB cannot mirror.

import { CANARY, ConfigError, ROUTING } from './fields.js';
import { MAX_CONDITION_VALUES } from './limits.js';
import type { CanaryStrategy, HeaderRoutingMatch, Rollout, SetHeaderRoute, SetMirrorRoute, StringMatch } from './rollout.js';

export class HeaderRouteError extends Error {
  override name = 'HeaderRouteError';
}

export type HeaderValue = { exact: string } | { prefix: string };

export interface HeaderMatch {
  headerName: string;
  /** ORed; at least one. */
  values: HeaderValue[];
}

/** One match's value: exactly one of exact or prefix. `path` is the match's path, for the refusal. */
export function headerValue(value: StringMatch | null | undefined, path: string): HeaderValue {
  if (!value) {
    throw new ConfigError(`${path}.headerValue`, 'StringMatch value missed, match value must have one of the following: exact, regex, prefix');
  }
  const set = (['exact', 'prefix', 'regex'] as const).filter((k) => value[k] !== undefined && value[k] !== null && value[k] !== '');
  if (set.length !== 1) {
    throw new ConfigError(`${path}.headerValue`, 'set exactly one of exact or prefix (ALB matches header values with * and ? wildcards)');
  }
  if (set[0] === 'regex') {
    throw new ConfigError(
      `${path}.headerValue.regex`,
      'regular expressions are not supported by ALB header conditions; use exact (with * and ? wildcards) or prefix',
    );
  }
  return set[0] === 'exact' ? { exact: value.exact! } : { prefix: value.prefix! };
}

/** A value as an ALB header pattern: exact as written (its `*` and `?` stay wildcards), prefix as `<prefix>*`. */
export function albHeaderValue(value: HeaderValue): string {
  return 'exact' in value ? value.exact : `${value.prefix}*`;
}

/** The conditions of one header route; `path` names the route in refusals (e.g. `setHeaderRoute "beta"`). */
export function headerMatches(match: HeaderRoutingMatch[], path: string): HeaderMatch[] {
  const byName = new Map<string, HeaderValue[]>();
  match.forEach((m, j) => {
    if (!m.headerName) throw new HeaderRouteError(`${path}.match[${j}].headerName: missing; name the HTTP header to match`);
    const value = headerValue(m.headerValue, `${path}.match[${j}]`);
    const values = byName.get(m.headerName) ?? [];
    values.push(value);
    byName.set(m.headerName, values);
  });
  const total = [...byName.values()].reduce((n, v) => n + v.length, 0);
  if (total > MAX_CONDITION_VALUES) {
    throw new HeaderRouteError(
      `${path}.match: ${total} header values; an ALB rule takes at most ${MAX_CONDITION_VALUES} condition values, use wildcards (* ?) to combine them`,
    );
  }
  return [...byName].map(([headerName, values]) => ({ headerName, values }));
}

/** `trafficRouting.managedRoutes` names, in order (the order header routes take precedence in). */
export function managedRoutes(rollout: Rollout): string[] {
  return (rollout.spec.strategy.canary?.trafficRouting?.managedRoutes ?? []).map((r) => r.name);
}

/** A header route a mode must not write (its name would collide with something the mode writes). */
export interface ReservedRouteName {
  name: string;
  problem: string;
}

/**
 * Argo's rules for header routes, checked on the whole spec: every managed route has a name (not a
 * `reserved` one), every setHeaderRoute step names a managed route, and every match can be written.
 */
export function checkHeaderRouteSteps(canary: CanaryStrategy, reserved?: ReservedRouteName): void {
  (canary.trafficRouting?.managedRoutes ?? []).forEach((r, i) => {
    if (!r.name) throw new ConfigError(`${ROUTING}.managedRoutes[${i}].name`, 'missing; name the header route');
    if (reserved && r.name === reserved.name) throw new ConfigError(`${ROUTING}.managedRoutes[${i}].name`, reserved.problem);
  });
  const managed = new Set((canary.trafficRouting?.managedRoutes ?? []).map((r) => r.name));
  (canary.steps ?? []).forEach((step, i) => {
    const route = step.setHeaderRoute;
    if (!route) return;
    const at = `${CANARY}.steps[${i}].setHeaderRoute`;
    if (!canary.trafficRouting?.managedRoutes) {
      throw new ConfigError(`${ROUTING}.managedRoutes`, `missing; list the header route "${route.name}" under managedRoutes`);
    }
    if (!managed.has(route.name)) {
      throw new ConfigError(at, `route "${route.name}" is not in ${ROUTING}.managedRoutes; add it there`);
    }
    (route.match ?? []).forEach((m, j) => {
      if (!m.headerName) throw new ConfigError(`${at}.match[${j}].headerName`, 'missing; name the HTTP header to match');
      headerValue(m.headerValue, `${at}.match[${j}]`);
    });
  });
}

/** A SetHeaderRoute call for a route that is not managed could never be removed again: refused. */
export function checkManagedRoute(managed: readonly string[], route: string): void {
  if (!managed.includes(route)) {
    throw new HeaderRouteError(
      `header route "${route}" is not listed in spec.strategy.canary.trafficRouting.managedRoutes; add it there so it can be removed again`,
    );
  }
}

/**
 * A SetHeaderRoute call, checked as every mode checks it before writing: its matches (none: the route is
 * removed), then that the route is managed.
 */
export function headerRouteMatches(route: SetHeaderRoute, managed: readonly string[]): HeaderMatch[] {
  const matches = route.match && route.match.length > 0 ? headerMatches(route.match, `setHeaderRoute "${route.name}"`) : [];
  checkManagedRoute(managed, route.name);
  return matches;
}

/** setMirrorRoute: an ALB forwards, redirects or answers; it cannot mirror traffic, in any mode. */
export function mirrorRouteRefusal(route: SetMirrorRoute): Error {
  return new Error(
    `ALB cannot mirror traffic (setMirrorRoute "${route.name}"); remove the setMirrorRoute step or use a traffic router that mirrors`,
  );
}
