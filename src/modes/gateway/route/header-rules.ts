// Header routes on an HTTPRoute or a GRPCRoute: one extra rule per driven rule (driven-rules.ts), owned by the Rollout
// (ownership.ts), that sends requests with the route's headers to the canary; how header values are written for
// the LBC and read back; and the guarded JSON patches that add, replace and remove those rules.

import { albHeaderValue, type HeaderMatch } from '../../../core/routes.js';
import { SOLE_WEIGHT } from '../../../core/limits.js';
import type { GatewayConfig, RouteRef } from '../config.js';
import { selectRules } from './driven-rules.js';
import {
  indexOfService,
  MAX_ROUTE_MATCHES,
  MAX_ROUTE_RULES,
  RoutePlanError,
  routeLabel,
  type BackendRef,
  type HTTPHeaderMatch,
  type HTTPRoute,
  type HTTPRouteMatch,
  type HTTPRouteRule,
  type RouteKind,
} from './model.js';
import { bookkeepingOps, ownedBy, ownerKey, releaseRecord } from './ownership.js';
import { PatchBuilder, type Plan } from './plan.js';

/** A header value as the LBC reads an Exact header match: `\` and `,` escaped (it splits on unescaped commas). */
export function escapeHeaderValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

/** The LBC's reading of an Exact header value: split on unescaped commas, `\` unescaped (route_rule_condition.go). */
export function lbcHeaderValues(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) cur += value[++i]!;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The core's header conditions as Gateway API header matches: one Exact match per header, values ORed by commas. */
export function gatewayHeaderMatches(matches: readonly HeaderMatch[]): HTTPHeaderMatch[] {
  return matches.map((m) => ({ type: 'Exact', name: m.headerName, value: m.values.map((v) => escapeHeaderValue(albHeaderValue(v))).join(',') }));
}

/**
 * Rule name of a header route: `argo-<rollout>-<route>` (lower-cased DNS subdomain), `-<n>` per driven rule after the
 * first. A Rollout in another namespace than the HTTPRoute's gets its namespace in the name too
 * (`argo-<namespace>-<rollout>-<route>`): two Rollouts of one name in two namespaces can share a route. A name that
 * still collides (a rule this Rollout did not add) is refused with the rule named, never taken over.
 */
export function headerRuleName(config: Pick<GatewayConfig, 'rolloutName' | 'namespace'>, routeNamespace: string, routeName: string, ordinal: number): string {
  const slug = routeName
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .replace(/\.{2,}/g, '.');
  const who = config.namespace === routeNamespace ? config.rolloutName : `${config.namespace}-${config.rolloutName}`;
  const name = `argo-${who}-${slug || 'route'}${ordinal > 0 ? `-${ordinal}` : ''}`;
  return name.length <= 253 ? name : name.slice(0, 253).replace(/[-.]+$/, '');
}

const COPIED_FILTERS = new Set(['ExtensionRef', 'URLRewrite']);

/**
 * The match a rule without matches stands for: every path (HTTPRoute), every service and method (GRPCRoute, whose
 * matches have no path: the LBC renders an empty GRPCRouteMatch as the path pattern `/*`).
 */
function matchAll(kind: RouteKind): HTTPRouteMatch {
  return kind === 'GRPCRoute' ? {} : { path: { type: 'PathPrefix', value: '/' } };
}

/**
 * The header rule built from a driven rule: its matches plus the headers, its ExtensionRef/URLRewrite filters, 100 %
 * canary. A GRPCRoute's header matches have the HTTPRoute's shape and the LBC renders both alike (an http-header
 * condition, values split on unescaped commas); a GRPCRoute has no URLRewrite filter, so only ExtensionRef is copied.
 */
export function headerRule(name: string, driven: HTTPRouteRule, canaryRef: BackendRef, headers: HTTPHeaderMatch[], kind: RouteKind = 'HTTPRoute'): HTTPRouteRule {
  const base: HTTPRouteMatch[] = driven.matches?.length ? driven.matches : [matchAll(kind)];
  const rule: HTTPRouteRule = {
    name,
    matches: base.map((m) => ({ ...structuredClone(m), headers: [...(m.headers ?? []), ...headers] })),
    backendRefs: [{ ...structuredClone(canaryRef), weight: SOLE_WEIGHT }],
  };
  const filters = (driven.filters ?? []).filter((f) => COPIED_FILTERS.has(f.type));
  if (filters.length > 0) rule.filters = structuredClone(filters);
  return rule;
}

function checkRouteLimits(route: HTTPRoute, ref: RouteRef): void {
  const rules = route.spec.rules ?? [];
  const matches = rules.reduce((n, r) => n + (r.matches?.length ?? 0), 0);
  if (rules.length > MAX_ROUTE_RULES || matches > MAX_ROUTE_MATCHES) {
    throw new RoutePlanError(
      `${routeLabel(ref)} would have ${rules.length} rules and ${matches} matches with the header route; Gateway API allows at most ` +
        `${MAX_ROUTE_RULES} rules and ${MAX_ROUTE_MATCHES} matches per route`,
    );
  }
}

/** Removes the rules of `names` (tested by name), highest index first. */
export function removeRules(b: PatchBuilder, names: Set<string>): void {
  const rules = b.work.spec.rules ?? [];
  for (let i = rules.length - 1; i >= 0; i--) {
    const name = rules[i]!.name;
    if (name && names.has(name)) b.push({ op: 'test', path: `/spec/rules/${i}/name`, value: name }, { op: 'remove', path: `/spec/rules/${i}` });
  }
}

/**
 * SetHeaderRoute on one route: without matches the route's rules are removed; with matches each driven rule gets
 * its header rule (replaced when it differs), placed before the rules of routes later in `managedRoutes` so the
 * LBC's tie-break by rule index keeps their precedence.
 */
export function planHeaderRoute(route: HTTPRoute, ref: RouteRef, config: GatewayConfig, routeName: string, matches: readonly HeaderMatch[]): Plan {
  const owner = ownerKey(config);
  const owned = ownedBy(route, owner);
  const b = new PatchBuilder(route);
  const present = new Set((route.spec.rules ?? []).map((r) => r.name).filter((n): n is string => !!n));
  // Names recorded for rules that are gone (removed by hand) are forgotten.
  for (const name of Object.keys(owned.rules)) if (!present.has(name)) delete owned.rules[name];
  const mine = new Set(Object.entries(owned.rules).filter(([, r]) => r === routeName).map(([n]) => n));
  if (matches.length === 0) {
    removeRules(b, mine);
    for (const n of mine) delete owned.rules[n];
  } else {
    const headers = gatewayHeaderMatches(matches);
    const indices = selectRules(route, ref, config);
    const wanted = new Set<string>();
    indices.forEach((i, ordinal) => {
      const driven = route.spec.rules![i]!;
      const canaryRef = driven.backendRefs![indexOfService(driven, config.services.canary, config, ref)]!;
      const name = headerRuleName(config, ref.namespace, routeName, ordinal);
      wanted.add(name);
      const rule = headerRule(name, driven, canaryRef, headers, ref.kind);
      const rules = b.work.spec.rules ?? [];
      const at = rules.findIndex((r) => r.name === name);
      if (at >= 0) {
        if (!mine.has(name)) {
          throw new RoutePlanError(
            `${routeLabel(ref)} already has a rule named "${name}" that this Rollout did not add; rename that rule (header routes of ${owner} use this name)`,
          );
        }
        if (JSON.stringify(rules[at]) !== JSON.stringify(rule)) {
          b.push({ op: 'test', path: `/spec/rules/${at}/name`, value: name }, { op: 'replace', path: `/spec/rules/${at}`, value: rule });
        }
      } else {
        const order = config.managedRoutes.indexOf(routeName);
        const later = rules.findIndex((r) => {
          const other = r.name ? owned.rules[r.name] : undefined;
          return other !== undefined && config.managedRoutes.indexOf(other) > order;
        });
        b.push({ op: 'add', path: `/spec/rules/${later >= 0 ? later : '-'}`, value: rule });
      }
      owned.rules[name] = routeName;
    });
    // A driven rule that went away takes its header rule with it.
    const stale = new Set([...mine].filter((n) => !wanted.has(n)));
    removeRules(b, stale);
    for (const n of stale) delete owned.rules[n];
    checkRouteLimits(b.work, ref);
  }
  b.push(...bookkeepingOps(b.work, owner, { ...owned, release: releaseRecord(config) }));
  return { ops: b.finish(), after: b.work };
}

/** RemoveManagedRoutes, abort and release: every header rule the Rollout added goes; weights stay (release resets them separately). */
export function planRemoveHeaderRoutes(route: HTTPRoute, config: GatewayConfig): Plan {
  const owner = ownerKey(config);
  const owned = ownedBy(route, owner);
  const b = new PatchBuilder(route);
  removeRules(b, new Set(Object.keys(owned.rules)));
  b.push(...bookkeepingOps(b.work, owner, { ...owned, rules: {}, release: releaseRecord(config) }));
  return { ops: b.finish(), after: b.work };
}
