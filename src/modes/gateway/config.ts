// Gateway mode's reading of the plugin block: the HTTPRoutes and GRPCRoutes whose backendRefs carry the weights (the
// LBC turns each rule's weighted backendRefs into a weighted forward on the Gateway's ALB, docs/gateway-api-facts.md
// §3, §6) and which of their rules to drive. Pure: it reads the Rollout as Argo sent it and returns a normalised config
// or throws a ConfigError naming the field path and the fix. The rules every mode shares (Services, ping-pong
// roles, maxTrafficWeight, header routes) come from src/core; the route list and rule selector are this mode's.

import { ConfigError, describeValue, isObject, pluginPath } from '../../core/fields.js';
import { checkHeaderRouteSteps, managedRoutes } from '../../core/routes.js';
import type { Rollout } from '../../core/rollout.js';
import { checkServices, serviceRoles, type ServiceRoles } from '../../core/services.js';
import { maxTrafficWeight } from '../../core/weights.js';

/** The route kinds the LBC builds into ALB rules and the plugin drives. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

export interface RouteRef {
  kind: RouteKind;
  name: string;
  /** The route's namespace; the Rollout's when not given. */
  namespace: string;
}

/** Which rules of a route SetWeight rewrites. */
export type RuleSelector =
  /** The rule with this `name` (HTTPRouteRule.name, Gateway API v1.2+). */
  | { kind: 'name'; name: string }
  /** Every rule whose backendRefs name both the stable and the canary Service (the default). */
  | { kind: 'services' };

export interface GatewayConfig {
  pluginName: string;
  /** The Rollout's namespace: its Services live there. */
  namespace: string;
  rolloutName: string;
  /** Config path of the plugin block, for messages. */
  path: string;
  /** The HTTPRoutes first, then the GRPCRoutes, each in the order written. */
  routes: RouteRef[];
  /** The user wrote one route with `httpRoute` or `grpcRoute` (single), not a list. */
  singleRoute: boolean;
  rule: RuleSelector;
  services: ServiceRoles;
  /** `maxTrafficWeight`, 100 when absent. */
  maxWeight: number;
  managedRoutes: string[];
}

/** The fields naming routes, per kind: the single name and the list (argoproj-labs' gatewayapi plugin's names). */
const ROUTE_FIELDS: Array<{ kind: RouteKind; single: string; list: string }> = [
  { kind: 'HTTPRoute', single: 'httpRoute', list: 'httpRoutes' },
  { kind: 'GRPCRoute', single: 'grpcRoute', list: 'grpcRoutes' },
];
const MODE_KEYS = [...ROUTE_FIELDS.flatMap((f) => [f.single, f.list]), 'ruleName'];
/** Fields of the other modes: each names its mode, so the refusal can say which two were combined. */
const OTHER_MODES: Record<string, string> = {
  ingress: 'Ingress mode',
  ingresses: 'Ingress mode',
  servicePort: 'Ingress mode',
  rootService: 'Ingress mode',
  annotationPrefix: 'Ingress mode',
  listenerRule: 'listener-rule mode',
  stableTargetGroup: 'listener-rule mode',
  canaryTargetGroup: 'listener-rule mode',
  pingTargetGroup: 'listener-rule mode',
  pongTargetGroup: 'listener-rule mode',
};

/** Kubernetes object names (DNS subdomains). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function objectName(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new ConfigError(path, `${describeValue(value)} is not a Kubernetes name; set it to the ${what}`);
  }
  return value;
}

function routeRef(kind: RouteKind, entry: unknown, path: string, namespace: string): RouteRef {
  if (typeof entry === 'string') return { kind, name: objectName(entry, path, `${kind} name`), namespace };
  if (!isObject(entry)) throw new ConfigError(path, `${describeValue(entry)} must be a ${kind} name or {name, namespace}`);
  for (const key of Object.keys(entry)) {
    if (key !== 'name' && key !== 'namespace') throw new ConfigError(`${path}.${key}`, 'unknown field; an entry has only name and namespace');
  }
  return {
    kind,
    name: objectName(entry.name, `${path}.name`, `${kind} name`),
    namespace: entry.namespace === undefined ? namespace : objectName(entry.namespace, `${path}.namespace`, `${kind}'s namespace`),
  };
}

/** The routes of one kind the block names (none when it names none of that kind). */
function routesOfKind(block: Record<string, unknown>, field: (typeof ROUTE_FIELDS)[number], base: string, namespace: string): RouteRef[] {
  const { kind, single, list } = field;
  if (block[single] !== undefined && block[list] !== undefined) {
    throw new ConfigError(base, `both ${single} and ${list} are set; keep exactly one (${list} for several ${kind}s)`);
  }
  if (block[single] !== undefined) return [routeRef(kind, block[single], `${base}.${single}`, namespace)];
  if (block[list] === undefined) return [];
  const raw = block[list];
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(`${base}.${list}`, `${describeValue(raw)} is not a non-empty list; list ${kind} names or {name, namespace} objects`);
  }
  const routes = raw.map((e, i) => routeRef(kind, e, `${base}.${list}[${i}]`, namespace));
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    const key = `${r.namespace}/${r.name}`;
    if (seen.has(key)) throw new ConfigError(`${base}.${list}[${i}]`, `${kind} ${key} is listed twice; list each ${kind} once`);
    seen.add(key);
  });
  return routes;
}

/** True when a plugin block asks for Gateway mode (it names an HTTPRoute or a GRPCRoute). */
export function isGatewayBlock(block: unknown): boolean {
  return isObject(block) && ROUTE_FIELDS.some((f) => block[f.single] !== undefined || block[f.list] !== undefined);
}

export function parseGatewayConfig(rollout: Rollout, pluginName: string): GatewayConfig {
  const canary = rollout.spec?.strategy?.canary;
  const base = pluginPath(pluginName);
  const block = canary?.trafficRouting?.plugins?.[pluginName];
  if (!canary || !isObject(block)) {
    throw new ConfigError(base, `${block === undefined ? 'missing' : 'not an object'}; configure the plugin under this key with httpRoute: <name>`);
  }
  const own = MODE_KEYS.find((k) => k !== 'ruleName' && block[k] !== undefined) ?? 'httpRoute';
  for (const key of Object.keys(block)) {
    const mode = OTHER_MODES[key];
    if (mode) {
      throw new ConfigError(
        `${base}.${key}`,
        `${key} belongs to ${mode} and cannot be combined with ${own} (Gateway mode); a Rollout uses one mode: ` +
          `remove ${key}, or remove ${own} to use ${mode}`,
      );
    }
    if (key === 'stickinessConfig') {
      throw new ConfigError(
        `${base}.stickinessConfig`,
        'not supported in Gateway mode: the LBC takes stickiness from a ListenerRuleConfiguration (gateway.k8s.aws) referenced by ' +
          "an ExtensionRef filter on the route's rule; configure it there and remove stickinessConfig",
      );
    }
    if (!MODE_KEYS.includes(key)) throw new ConfigError(`${base}.${key}`, `unknown field; the fields of Gateway mode are ${MODE_KEYS.join(', ')}`);
  }
  const namespace = rollout.metadata.namespace || 'default';
  // Both kinds may be named together (as argoproj-labs' gatewayapi plugin allows): a service served over HTTP and
  // gRPC by one Gateway has one route of each, and both carry the canary's weight.
  const routes = ROUTE_FIELDS.flatMap((f) => routesOfKind(block, f, base, namespace));
  let rule: RuleSelector = { kind: 'services' };
  if (block.ruleName !== undefined) {
    rule = { kind: 'name', name: objectName(block.ruleName, `${base}.ruleName`, 'name of the route rule to drive (spec.rules[].name)') };
  }

  checkServices(canary, true);
  const maxWeight = maxTrafficWeight(rollout);
  checkHeaderRouteSteps(canary);

  return {
    pluginName,
    namespace,
    rolloutName: rollout.metadata.name,
    path: base,
    routes,
    singleRoute: routes.length === 1 && (block.httpRoute !== undefined || block.grpcRoute !== undefined),
    rule,
    services: serviceRoles(rollout),
    maxWeight,
    managedRoutes: managedRoutes(rollout),
  };
}
