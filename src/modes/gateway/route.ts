// The parts of a gateway.networking.k8s.io/v1 HTTPRoute Gateway mode reads and writes, and the pure planners:
// which rules a Rollout drives, and the guarded JSON patch for SetWeight (only the `weight` of the stable, canary
// and experiment backendRefs), for a header route (one extra rule per driven rule, owned by the Rollout) and for
// removing what the Rollout owns. Every patch starts with `test /metadata/resourceVersion` and tests the name of
// each backendRef or rule it touches, so a patch computed from a stale read changes nothing (the API server
// answers 422) and the router re-reads (update.ts). Why a JSON patch and not server-side apply:
// docs/gateway-api-facts.md §9.2 (`rules` and `backendRefs` are atomic lists).

import { albHeaderValue, type HeaderMatch } from '../../core/routes.js';
import { MAX_TARGET_GROUPS, SOLE_WEIGHT } from '../../core/limits.js';
import type { ObjectMeta } from '../../core/rollout.js';
import type { DesiredWeight } from '../../core/weights.js';
import type { GatewayConfig, RouteRef } from './config.js';
import { applyJsonPatch, pointerSegment, type JsonPatchOp } from './json-patch.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Gateway API's own limits on a route (the CRD's maxItems and CEL rule). */
export const MAX_ROUTE_RULES = 16;
export const MAX_ROUTE_MATCHES = 128;
/** A backendRef without `weight` gets 1 (Gateway API default; the LBC writes it as is). */
export const DEFAULT_BACKEND_WEIGHT = 1;
/**
 * This plugin's bookkeeping on an HTTPRoute: `<namespace>/<rollout>` → what that Rollout added to the route
 * (header-route rules by rule name → managed route name, experiment backendRefs by Service). Only what is listed
 * here is ever removed.
 */
export const OWNED_ANNOTATION = 'alb.rollouts.argoproj-labs.io/gateway-owned';

export interface BackendRef {
  name: string;
  namespace?: string;
  kind?: string;
  group?: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}

export interface HTTPHeaderMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: { type?: string; value?: string };
  headers?: HTTPHeaderMatch[];
  queryParams?: unknown[];
  method?: string;
  [key: string]: unknown;
}

export interface HTTPRouteFilter {
  type: string;
  [key: string]: unknown;
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: BackendRef[];
  [key: string]: unknown;
}

export interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPRoute {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: HTTPRouteRule[]; [key: string]: unknown };
  status?: unknown;
}

/** Why a plan cannot be written; the message names the route, the rule and the fix. */
export class RoutePlanError extends Error {
  override name = 'RoutePlanError';
}

export interface Owned {
  /** Header-route rule name → managed route name. */
  rules: Record<string, string>;
  /** Services whose backendRefs this Rollout added for experiments. */
  backends: string[];
}

export function ownerKey(config: Pick<GatewayConfig, 'namespace' | 'rolloutName'>): string {
  return `${config.namespace}/${config.rolloutName}`;
}

function readOwnedMap(route: HTTPRoute): Record<string, Owned> {
  const raw = route.metadata.annotations?.[OWNED_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, Owned>) : {};
  } catch {
    return {};
  }
}

/** What `owner` added to the route, as the bookkeeping annotation says. */
export function ownedBy(route: HTTPRoute, owner: string): Owned {
  const entry = readOwnedMap(route)[owner];
  return { rules: { ...(entry?.rules ?? {}) }, backends: [...(entry?.backends ?? [])] };
}

function routeLabel(ref: RouteRef): string {
  return `HTTPRoute ${ref.namespace}/${ref.name}`;
}

function ruleLabel(rule: HTTPRouteRule, index: number): string {
  return rule.name ? `rule "${rule.name}" (spec.rules[${index}])` : `spec.rules[${index}]`;
}

/** The backendRef names this Service of the Rollout's namespace (kind Service, core group). */
export function refersTo(ref: BackendRef, service: string, serviceNamespace: string, routeNamespace: string): boolean {
  return (
    (ref.kind ?? 'Service') === 'Service' &&
    (ref.group ?? '') === '' &&
    ref.name === service &&
    (ref.namespace ?? routeNamespace) === serviceNamespace
  );
}

function indexOfService(rule: HTTPRouteRule, service: string, config: GatewayConfig, ref: RouteRef): number {
  return (rule.backendRefs ?? []).findIndex((b) => refersTo(b, service, config.namespace, ref.namespace));
}

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

function bookkeepingOps(route: HTTPRoute, owner: string, next: Owned): JsonPatchOp[] {
  const map = readOwnedMap(route);
  const empty = Object.keys(next.rules).length === 0 && next.backends.length === 0;
  const before = map[owner];
  const same = before !== undefined && JSON.stringify({ rules: before.rules ?? {}, backends: before.backends ?? [] }) === JSON.stringify(next);
  if ((empty && before === undefined) || same) return [];
  if (empty) delete map[owner];
  else map[owner] = next;
  const annotations = route.metadata.annotations;
  const key = `/metadata/annotations/${pointerSegment(OWNED_ANNOTATION)}`;
  if (Object.keys(map).length === 0) return annotations?.[OWNED_ANNOTATION] !== undefined ? [{ op: 'remove', path: key }] : [];
  const value = JSON.stringify(map);
  if (!annotations) return [{ op: 'add', path: '/metadata/annotations', value: { [OWNED_ANNOTATION]: value } }];
  return [{ op: 'add', path: key, value }];
}

/** Builds a patch against a working copy, applying each operation as it is added. */
class PatchBuilder {
  readonly ops: JsonPatchOp[] = [];
  readonly work: HTTPRoute;
  constructor(readonly route: HTTPRoute) {
    this.work = structuredClone(route);
  }
  push(...ops: JsonPatchOp[]): void {
    applyJsonPatch(this.work, ops);
    this.ops.push(...ops);
  }
  /** The patch, guarded by the resourceVersion; empty when there is nothing to change. */
  finish(): JsonPatchOp[] {
    if (this.ops.length === 0) return [];
    const rv = this.route.metadata.resourceVersion;
    if (!rv) throw new RoutePlanError(`HTTPRoute ${this.route.metadata.name} came back without metadata.resourceVersion; refusing an unguarded write`);
    return [{ op: 'test', path: '/metadata/resourceVersion', value: rv }, ...this.ops];
  }
}

export interface Plan {
  /** Empty when the route already is as wanted. */
  ops: JsonPatchOp[];
  /** The route as it is after the patch. */
  after: HTTPRoute;
}

/**
 * SetWeight on one route: each driven rule's stable, canary and experiment backendRefs get the core's weights;
 * experiment Services missing from a rule are added (on the Service's own port when known) and recorded as owned,
 * owned experiment backendRefs no longer wanted are removed. Nothing else in the route changes.
 */
export function planWeights(
  route: HTTPRoute,
  ref: RouteRef,
  config: GatewayConfig,
  desired: readonly DesiredWeight[],
  /** Port of each experiment Service (Argo creates them with the container port); the stable backendRef's port otherwise. */
  experimentPorts: ReadonlyMap<string, number> = new Map(),
): Plan {
  const owner = ownerKey(config);
  const owned = ownedBy(route, owner);
  const experiments = desired.filter((d) => d.role === 'experiment').map((d) => d.service);
  const b = new PatchBuilder(route);
  const indices = selectRules(route, ref, config);
  const addedBackends = new Set(owned.backends);
  for (const i of indices) {
    const rule = b.work.spec.rules![i]!;
    const refs = rule.backendRefs ?? [];
    const stableRef = refs[indexOfService(rule, config.services.stable, config, ref)]!;
    const leaving = refs
      .map((r, j) => ({ r, j }))
      .filter(({ r }) => owned.backends.some((svc) => refersTo(r, svc, config.namespace, ref.namespace) && !experiments.includes(svc)));
    const missing = experiments.filter((svc) => indexOfService(rule, svc, config, ref) < 0);
    const count = refs.length - leaving.length + missing.length;
    if (count > MAX_TARGET_GROUPS) {
      throw new RoutePlanError(
        `${routeLabel(ref)} ${ruleLabel(rule, i)} would have ${count} backendRefs (${refs.length} now` +
          `${missing.length ? `, ${missing.length} experiment Service(s) to add` : ''}); ALB forwards to at most ${MAX_TARGET_GROUPS} target groups, ` +
          'remove backendRefs from the rule or use fewer experiment templates',
      );
    }
    const base = `/spec/rules/${i}/backendRefs`;
    for (const { j } of [...leaving].reverse()) {
      b.push({ op: 'test', path: `${base}/${j}/name`, value: refs[j]!.name }, { op: 'remove', path: `${base}/${j}` });
    }
    for (const svc of missing) {
      const add: BackendRef = { name: svc, weight: 0 };
      if (ref.namespace !== config.namespace) add.namespace = config.namespace;
      const port = experimentPorts.get(svc) ?? stableRef.port;
      if (port !== undefined) add.port = port;
      b.push({ op: 'add', path: `${base}/-`, value: add });
      addedBackends.add(svc);
    }
    // An experiment backendRef this Rollout added on a fallback port gets the Service's port once it is known.
    for (const svc of experiments) {
      const port = experimentPorts.get(svc);
      if (port === undefined || !addedBackends.has(svc)) continue;
      const current = b.work.spec.rules![i]!.backendRefs ?? [];
      const j = current.findIndex((r) => refersTo(r, svc, config.namespace, ref.namespace));
      if (j >= 0 && current[j]!.port !== port) {
        b.push({ op: 'test', path: `${base}/${j}/name`, value: svc }, { op: current[j]!.port === undefined ? 'add' : 'replace', path: `${base}/${j}/port`, value: port });
      }
    }
    for (const d of desired) {
      const current = b.work.spec.rules![i]!.backendRefs ?? [];
      const j = current.findIndex((r) => refersTo(r, d.service, config.namespace, ref.namespace));
      const now = current[j]!;
      if ((now.weight ?? DEFAULT_BACKEND_WEIGHT) === d.weight && now.weight !== undefined) continue;
      b.push(
        { op: 'test', path: `${base}/${j}/name`, value: now.name },
        { op: now.weight === undefined ? 'add' : 'replace', path: `${base}/${j}/weight`, value: d.weight },
      );
    }
  }
  const backends = [...addedBackends].filter((svc) => experiments.includes(svc)).sort();
  b.push(...bookkeepingOps(b.work, owner, { rules: owned.rules, backends }));
  return { ops: b.finish(), after: b.work };
}

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

/** Rule name of a header route: `argo-<rollout>-<route>` (lower-cased DNS subdomain), `-<n>` per driven rule after the first. */
export function headerRuleName(config: Pick<GatewayConfig, 'rolloutName'>, routeName: string, ordinal: number): string {
  const slug = routeName
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .replace(/\.{2,}/g, '.');
  const name = `argo-${config.rolloutName}-${slug || 'route'}${ordinal > 0 ? `-${ordinal}` : ''}`;
  return name.length <= 253 ? name : name.slice(0, 253).replace(/[-.]+$/, '');
}

const COPIED_FILTERS = new Set(['ExtensionRef', 'URLRewrite']);

/** The header rule built from a driven rule: its matches plus the headers, its ExtensionRef/URLRewrite filters, 100 % canary. */
export function headerRule(name: string, driven: HTTPRouteRule, canaryRef: BackendRef, headers: HTTPHeaderMatch[]): HTTPRouteRule {
  const base: HTTPRouteMatch[] = driven.matches?.length ? driven.matches : [{ path: { type: 'PathPrefix', value: '/' } }];
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
function removeRules(b: PatchBuilder, names: Set<string>): void {
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
      const name = headerRuleName(config, routeName, ordinal);
      wanted.add(name);
      const rule = headerRule(name, driven, canaryRef, headers);
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
  b.push(...bookkeepingOps(b.work, owner, owned));
  return { ops: b.finish(), after: b.work };
}

/** RemoveManagedRoutes, abort and release: every header rule the Rollout added goes; weights stay (release resets them separately). */
export function planRemoveHeaderRoutes(route: HTTPRoute, config: GatewayConfig): Plan {
  const owner = ownerKey(config);
  const owned = ownedBy(route, owner);
  const b = new PatchBuilder(route);
  removeRules(b, new Set(Object.keys(owned.rules)));
  b.push(...bookkeepingOps(b.work, owner, { rules: {}, backends: owned.backends }));
  return { ops: b.finish(), after: b.work };
}

/** Weights per Service of a rule as the LBC writes them into the forward (absent = 1, 0 kept). */
export function ruleWeights(rule: HTTPRouteRule): Array<[string, number]> {
  return (rule.backendRefs ?? []).map((r) => [r.name, r.weight ?? DEFAULT_BACKEND_WEIGHT]);
}
