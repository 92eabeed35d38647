// Gateway mode's reading of the plugin block: the HTTPRoutes whose backendRefs carry the weights (the LBC turns
// each rule's weighted backendRefs into a weighted forward on the Gateway's ALB, docs/gateway-api-facts.md §3)
// and which of their rules to drive. Pure: it reads the Rollout as Argo sent it and returns a normalised config
// or throws a ConfigError naming the field path and the fix. The rules every mode shares (Services, ping-pong
// roles, maxTrafficWeight, header routes) come from src/core; the route list and rule selector are this mode's.

import { ConfigError, describeValue, isObject, pluginPath } from '../../core/fields.js';
import { checkHeaderRouteSteps, managedRoutes } from '../../core/routes.js';
import type { Rollout } from '../../core/rollout.js';
import { checkServices, serviceRoles, type ServiceRoles } from '../../core/services.js';
import { maxTrafficWeight } from '../../core/weights.js';

export interface RouteRef {
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
  routes: RouteRef[];
  /** The user wrote `httpRoute` (single); messages then say `httpRoute`, else `httpRoutes`. */
  singleRoute: boolean;
  rule: RuleSelector;
  services: ServiceRoles;
  /** `maxTrafficWeight`, 100 when absent. */
  maxWeight: number;
  managedRoutes: string[];
}

const MODE_KEYS = ['httpRoute', 'httpRoutes', 'ruleName'];
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

function routeRef(entry: unknown, path: string, namespace: string): RouteRef {
  if (typeof entry === 'string') return { name: objectName(entry, path, 'HTTPRoute name'), namespace };
  if (!isObject(entry)) throw new ConfigError(path, `${describeValue(entry)} must be an HTTPRoute name or {name, namespace}`);
  for (const key of Object.keys(entry)) {
    if (key !== 'name' && key !== 'namespace') throw new ConfigError(`${path}.${key}`, 'unknown field; an entry has only name and namespace');
  }
  return {
    name: objectName(entry.name, `${path}.name`, 'HTTPRoute name'),
    namespace: entry.namespace === undefined ? namespace : objectName(entry.namespace, `${path}.namespace`, "HTTPRoute's namespace"),
  };
}

/** True when a plugin block asks for Gateway mode (it names an HTTPRoute). */
export function isGatewayBlock(block: unknown): boolean {
  return isObject(block) && (block.httpRoute !== undefined || block.httpRoutes !== undefined);
}

export function parseGatewayConfig(rollout: Rollout, pluginName: string): GatewayConfig {
  const canary = rollout.spec?.strategy?.canary;
  const base = pluginPath(pluginName);
  const block = canary?.trafficRouting?.plugins?.[pluginName];
  if (!canary || !isObject(block)) {
    throw new ConfigError(base, `${block === undefined ? 'missing' : 'not an object'}; configure the plugin under this key with httpRoute: <name>`);
  }
  const own = block.httpRoute !== undefined ? 'httpRoute' : 'httpRoutes';
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
    if (key === 'grpcRoute' || key === 'grpcRoutes') {
      throw new ConfigError(`${base}.${key}`, 'GRPCRoutes are not supported yet; name HTTPRoutes with httpRoute or httpRoutes');
    }
    if (!MODE_KEYS.includes(key)) throw new ConfigError(`${base}.${key}`, `unknown field; the fields of Gateway mode are ${MODE_KEYS.join(', ')}`);
  }
  const namespace = rollout.metadata.namespace || 'default';
  if (block.httpRoute !== undefined && block.httpRoutes !== undefined) {
    throw new ConfigError(base, 'both httpRoute and httpRoutes are set; keep exactly one (httpRoutes for several HTTPRoutes)');
  }
  let routes: RouteRef[];
  if (block.httpRoute !== undefined) {
    routes = [routeRef(block.httpRoute, `${base}.httpRoute`, namespace)];
  } else {
    const raw = block.httpRoutes;
    if (!Array.isArray(raw) || raw.length === 0) {
      throw new ConfigError(`${base}.httpRoutes`, `${describeValue(raw)} is not a non-empty list; list HTTPRoute names or {name, namespace} objects`);
    }
    routes = raw.map((e, i) => routeRef(e, `${base}.httpRoutes[${i}]`, namespace));
    const seen = new Set<string>();
    routes.forEach((r, i) => {
      const key = `${r.namespace}/${r.name}`;
      if (seen.has(key)) throw new ConfigError(`${base}.httpRoutes[${i}]`, `HTTPRoute ${key} is listed twice; list each HTTPRoute once`);
      seen.add(key);
    });
  }
  let rule: RuleSelector = { kind: 'services' };
  if (block.ruleName !== undefined) {
    rule = { kind: 'name', name: objectName(block.ruleName, `${base}.ruleName`, 'name of the HTTPRoute rule to drive (spec.rules[].name)') };
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
    singleRoute: block.httpRoute !== undefined,
    rule,
    services: serviceRoles(rollout),
    maxWeight,
    managedRoutes: managedRoutes(rollout),
  };
}
