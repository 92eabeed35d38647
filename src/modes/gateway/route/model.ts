// The parts of a gateway.networking.k8s.io/v1 HTTPRoute or GRPCRoute Gateway mode reads and writes, Gateway API's
// limits on a route, and what every planner shares: the error a plan is refused with, how a route and a rule are
// named in it, and which backendRef names a Service. The planners: weights.ts (SetWeight), header-rules.ts (header
// routes), driven-rules.ts (which rules a Rollout drives); the bookkeeping of what a Rollout added: ownership.ts.
//
// A GRPCRoute goes through the same types as an HTTPRoute: every field the planners touch (a rule's name, filters
// and backendRefs, a match's header matches, the bookkeeping annotation) has the same shape and the same limits in
// both kinds, so one planner serves both. Only a match's `method` differs (an HTTP method name; a GRPCMethodMatch),
// and only the ALB rendering reads it (alb-rules.ts), by the route's kind.

import type { ObjectMeta } from '../../../core/rollout.js';
import type { GatewayConfig, RouteKind, RouteRef } from '../config.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export type { RouteKind } from '../config.js';
/** Resource names of the kinds under gateway.networking.k8s.io/v1. */
export const ROUTE_PLURAL: Record<RouteKind, string> = { HTTPRoute: 'httproutes', GRPCRoute: 'grpcroutes' };
/** Gateway API's own limits on a route (the CRD's maxItems and CEL rule). */
export const MAX_ROUTE_RULES = 16;
export const MAX_ROUTE_MATCHES = 128;
/** A backendRef without `weight` gets 1 (Gateway API default; the LBC writes it as is). */
export const DEFAULT_BACKEND_WEIGHT = 1;

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
  /** Gateway API HTTPQueryParamMatch (type Exact or RegularExpression). */
  queryParams?: Array<{ type?: string; name: string; value: string }>;
  /** An HTTP method (HTTPRoute), or a GRPCMethodMatch (GRPCRoute). */
  method?: string | GRPCMethodMatch;
  [key: string]: unknown;
}

/** Gateway API GRPCMethodMatch: the LBC turns it into the path pattern `/<service>/<method>` (`*` for what is left out). */
export interface GRPCMethodMatch {
  type?: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
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

export function routeLabel(ref: RouteRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

export function ruleLabel(rule: HTTPRouteRule, index: number): string {
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

/** Index of the rule's backendRef for this Service of the Rollout, -1 when it has none. */
export function indexOfService(rule: HTTPRouteRule, service: string, config: GatewayConfig, ref: RouteRef): number {
  return (rule.backendRefs ?? []).findIndex((b) => refersTo(b, service, config.namespace, ref.namespace));
}
