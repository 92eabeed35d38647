// What a Gateway-mode check looks for, from Kubernetes (docs/gateway-api-facts.md §9.1 steps 1-3): per driven route
// and Gateway parentRef (a "unit"), the load balancer the LBC built from the Gateway, the listener ports the
// parentRef attaches to, the target groups of the Rollout's Services from the LBC's TargetGroupBindings for the
// Gateway, and the conditions of the ALB rules each driven route rule becomes. A configuration the LBC cannot build
// an ALB for is a GatewayConfigProblem (answered with Err); one that is not there yet is a reason ("not yet").

import type { Elbv2Discovery } from '../../../aws/discovery.js';
import type { DesiredWeight } from '../../../core/weights.js';
import { expectedSignatures, type ExpectedWeight, type Signature } from '../alb-rules.js';
import type { HTTPRouteClient } from '../client.js';
import type { GatewayConfig, RouteKind, RouteRef } from '../config.js';
import type { GatewayBinding, GatewayListener, GatewayReader } from '../k8s.js';
import { selectRules } from '../route/driven-rules.js';
import { GATEWAY_GROUP, type HTTPRoute, type ParentRef } from '../route/model.js';
import { effectiveHostnames } from './hostnames.js';

export const ALB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/alb';
export const DRY_RUN_ANNOTATION = 'gateway.k8s.aws/dry-run';
export const TG_RESOURCE_TAG = 'gateway.k8s.aws.alb/resource';

/** A configuration problem found on the way: answered with Err, as the Ingress verifier does. */
export class GatewayConfigProblem extends Error {
  override name = 'GatewayConfigProblem';
}

/** ELBv2 calls one check made (the report's `elbv2Calls`). */
export interface CallCounter {
  calls: number;
}

/** One (route, parentRef): where its rules are and what they must carry. */
export interface Unit {
  key: string;
  /** `<kind> <namespace>/<name>`, for messages. */
  routeLabel: string;
  route: string;
  routeKind: RouteKind;
  gateway: string;
  lbArn: string;
  ports: number[];
  stableTg: string;
  /**
   * Per driven route rule: its label and its ALB rules, one per (listener port × match × hostname): the signature
   * and the port of the listener it must be on (`ports[j]` for `signatures[j]`).
   */
  rules: Array<{ label: string; signatures: Signature[]; ports: number[] }>;
  expected: ExpectedWeight[];
  /** Target group ARN → Service, for the report. */
  services: Map<string, string>;
}

export interface DiscoveryDeps {
  /** The shared discovery's lookup of a load balancer by its hostname (src/aws/discovery.ts). */
  lookup: Pick<Elbv2Discovery, 'loadBalancerByHostname'>;
  routes: HTTPRouteClient;
  gateways: GatewayReader;
  /** The `TG_RESOURCE_TAG` of each target group, '' without one (rule-cache.ts reads each once). */
  resourceTags(arns: string[], counter: CallCounter, signal: AbortSignal): Promise<Map<string, string>>;
}

/** Everything one discovery needs besides the clients. */
interface Lookup {
  config: GatewayConfig;
  desired: DesiredWeight[];
  counter: CallCounter;
  /** "Not yet" reasons found on the way. */
  reasons: string[];
  signal: AbortSignal;
}

function programmedArn(gw: { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }): string | undefined {
  const c = gw.status?.conditions?.find((x) => x.type === 'Programmed' && x.status === 'True');
  return c?.message && /^arn:[^:]+:elasticloadbalancing:/.test(c.message) ? c.message : undefined;
}

/** The Service's target group on this Gateway: its one binding, or, with several, the one tagged with the route. */
async function bindingFor(deps: DiscoveryDeps, bindings: GatewayBinding[], service: string, ref: RouteRef, at: Lookup): Promise<string | undefined> {
  const arns = [...new Set(bindings.filter((b) => b.serviceName === service).map((b) => b.targetGroupArn))];
  if (arns.length <= 1) return arns[0];
  const tags = await deps.resourceTags(arns, at.counter, at.signal);
  const needle = `:${ref.namespace}-${ref.name}:${ref.kind}-${at.config.namespace}-${service}:`;
  return arns.find((a) => (tags.get(a) ?? '').includes(needle));
}

/** The units of every driven route; a route or Gateway not ready yet adds a reason and no unit. */
export async function discoverUnits(
  deps: DiscoveryDeps,
  config: GatewayConfig,
  desired: DesiredWeight[],
  counter: CallCounter,
  reasons: string[],
  signal: AbortSignal,
): Promise<Unit[]> {
  const at: Lookup = { config, desired, counter, reasons, signal };
  const out: Unit[] = [];
  for (const ref of config.routes) {
    const routeLabel = `${ref.kind} ${ref.namespace}/${ref.name}`;
    const route: HTTPRoute = await deps.routes.get(ref.namespace, ref.name, { signal }, ref.kind);
    let indices: number[];
    try {
      indices = selectRules(route, ref, config);
    } catch (err) {
      throw new GatewayConfigProblem((err as Error).message);
    }
    const parents = (route.spec.parentRefs ?? []).filter((p) => (p.kind ?? 'Gateway') === 'Gateway' && (p.group ?? GATEWAY_GROUP) === GATEWAY_GROUP);
    if (parents.length === 0) throw new GatewayConfigProblem(`${routeLabel} has no Gateway in spec.parentRefs; attach it to a Gateway of the ALB controller`);
    for (const parent of parents) {
      refusedByLbc(route, ref, parent);
      const unit = await unitOf(deps, at, ref, route, indices, parent);
      if (unit) out.push(unit);
    }
  }
  return out;
}

async function unitOf(deps: DiscoveryDeps, at: Lookup, ref: RouteRef, route: HTTPRoute, indices: number[], parent: ParentRef): Promise<Unit | undefined> {
  const { config, signal } = at;
  const gwNs = parent.namespace ?? ref.namespace;
  const gwLabel = `Gateway ${gwNs}/${parent.name}`;
  const gw = await deps.gateways.getGateway(gwNs, parent.name, signal);
  const routeLabel = `${ref.kind} ${ref.namespace}/${ref.name}`;
  if (!gw) throw new GatewayConfigProblem(`${gwLabel} (a parentRef of ${routeLabel}) does not exist`);
  if (gw.metadata.annotations?.[DRY_RUN_ANNOTATION] === 'true') {
    throw new GatewayConfigProblem(`${gwLabel} is annotated ${DRY_RUN_ANNOTATION}: "true" (lbc-migrate's default): the LBC builds no ALB for it; remove the annotation`);
  }
  const cls = await deps.gateways.getGatewayClass(gw.spec.gatewayClassName, signal);
  if (!cls) throw new GatewayConfigProblem(`GatewayClass ${gw.spec.gatewayClassName} of ${gwLabel} does not exist`);
  if (cls.spec.controllerName !== ALB_GATEWAY_CONTROLLER) {
    throw new GatewayConfigProblem(
      `GatewayClass ${gw.spec.gatewayClassName} of ${gwLabel} has controllerName ${cls.spec.controllerName}; only ${ALB_GATEWAY_CONTROLLER} (the AWS Load Balancer Controller's ALB) builds an ALB this plugin can verify`,
    );
  }
  let lbArn = programmedArn(gw);
  if (!lbArn) {
    const host = gw.status?.addresses?.find((a) => (a.type ?? 'Hostname') === 'Hostname')?.value?.toLowerCase();
    if (host) {
      // Shared with every Rollout on this Gateway: DescribeLoadBalancers(Names) on the name the hostname gives.
      const lb = await deps.lookup.loadBalancerByHostname(host, { signal, onRequest: () => at.counter.calls++ });
      lbArn = lb?.LoadBalancerArn;
    }
  }
  if (!lbArn) {
    at.reasons.push(`no load balancer found for ${gwLabel} yet (not Programmed, no address)`);
    return undefined;
  }
  // A GRPCRoute attaches only to listeners that take its kind (listener_attachment_helper.go kindCheck): those whose
  // allowedRoutes.kinds list GRPCRoute, or without kinds, HTTPS listeners (DefaultProtocolToRouteKindMap,
  // constants.go; gRPC needs HTTP/2, which an ALB offers clients over TLS). The LBC builds no rule elsewhere.
  const grpc = ref.kind === 'GRPCRoute';
  const listeners = (gw.spec.listeners ?? []).filter((l) => !grpc || takesGrpcRoutes(l));
  if (grpc && parent.sectionName) {
    const named = (gw.spec.listeners ?? []).find((l) => l.name === parent.sectionName);
    if (named && !takesGrpcRoutes(named)) {
      throw new GatewayConfigProblem(
        `${routeLabel} names listener "${named.name}" of ${gwLabel} (protocol ${named.protocol}), which does not take GRPCRoutes; the AWS Load Balancer ` +
          'Controller attaches GRPCRoutes to HTTPS listeners (or to listeners whose allowedRoutes.kinds list GRPCRoute) and builds no ALB rule for it here: ' +
          'attach the route to an HTTPS listener with a certificate',
      );
    }
  }
  let ports: number[];
  if (parent.sectionName) ports = listeners.filter((l) => l.name === parent.sectionName).map((l) => l.port);
  else if (parent.port !== undefined) ports = !grpc || listeners.some((l) => l.port === parent.port) ? [parent.port] : [];
  else ports = listeners.filter((l) => grpc || l.protocol === 'HTTP' || l.protocol === 'HTTPS').map((l) => l.port);
  ports = [...new Set(ports)].sort((a, b) => a - b);
  if (ports.length === 0) {
    throw new GatewayConfigProblem(
      `${gwLabel} has no listener${grpc ? ' taking GRPCRoutes' : ''} for parentRef ${JSON.stringify(parent)} of ${routeLabel}` +
        `${grpc ? '; the AWS Load Balancer Controller attaches GRPCRoutes to HTTPS listeners (or to listeners whose allowedRoutes.kinds list GRPCRoute)' : ''}`,
    );
  }

  const bindings = await deps.gateways.listGatewayBindings(config.namespace, gwNs, parent.name, signal);
  const services = new Map<string, string>();
  const expected: ExpectedWeight[] = [];
  for (const d of at.desired) {
    const arn = await bindingFor(deps, bindings, d.service, ref, at);
    const e: ExpectedWeight = { service: d.service, weight: d.weight };
    if (arn) {
      e.targetGroupArn = arn;
      services.set(arn, d.service);
    }
    expected.push(e);
  }
  const stableTg = expected.find((e) => e.service === config.services.stable)?.targetGroupArn;
  if (!stableTg) {
    at.reasons.push(`${gwLabel}: no target group for the stable Service ${config.services.stable} of ${routeLabel} yet`);
    return undefined;
  }
  // Every listener the route attaches to gets its own ALB rules, with that listener's hostnames (hostnames.ts):
  // an HTTP listener without a hostname and an HTTPS one with shop.example.com each carry the weights, and both
  // are checked. Gateway listeners that share a port share one ALB listener (the LBC merges them).
  const attached = listeners.filter((l) => ports.includes(l.port) && (!parent.sectionName || l.name === parent.sectionName));
  const rules = indices.map((i) => {
    const seen = new Set<string>();
    const entries: Array<{ port: number; signature: Signature }> = [];
    for (const l of attached) {
      for (const signature of expectedSignatures(route.spec.rules![i]!, effectiveHostnames(route.spec.hostnames ?? [], l.hostname), ref.kind)) {
        const k = `${l.port} ${signature}`;
        if (seen.has(k)) continue;
        seen.add(k);
        entries.push({ port: l.port, signature });
      }
    }
    return {
      label: route.spec.rules![i]!.name ? `rule "${route.spec.rules![i]!.name}"` : `spec.rules[${i}]`,
      signatures: entries.map((e) => e.signature),
      ports: entries.map((e) => e.port),
    };
  });
  const key = JSON.stringify([ref, gwNs, parent.name, lbArn, ports, stableTg, rules]);
  return { key, routeLabel, route: `${ref.namespace}/${ref.name}`, routeKind: ref.kind, gateway: `${gwNs}/${parent.name}`, lbArn, ports, stableTg, rules, expected, services };
}

/** The listener takes GRPCRoutes: its allowedRoutes.kinds list them, or it has no kinds and is HTTPS. */
function takesGrpcRoutes(l: GatewayListener): boolean {
  const kinds = l.allowedRoutes?.kinds ?? [];
  return kinds.length > 0 ? kinds.some((k) => k.kind === 'GRPCRoute') : l.protocol === 'HTTPS';
}

interface RouteParentStatus {
  parentRef?: { name?: string; namespace?: string; sectionName?: string; port?: number };
  controllerName?: string;
  conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
}

/**
 * The LBC says in the route's status when it will not build a parentRef's rules as asked: `Accepted` False (the
 * Gateway does not take the route) or `ResolvedRefs` False (a backendRef it drops: a missing Service, a
 * cross-namespace ref without ReferenceGrant). Waiting for the ALB would then never end: it is an error naming
 * the condition. A status not written yet, or written by another controller, says nothing.
 */
export function refusedByLbc(route: HTTPRoute, ref: RouteRef, parent: ParentRef): void {
  const parents = ((route.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? []).filter(
    (p) =>
      p.controllerName === ALB_GATEWAY_CONTROLLER &&
      p.parentRef?.name === parent.name &&
      (p.parentRef?.namespace ?? ref.namespace) === (parent.namespace ?? ref.namespace) &&
      (p.parentRef?.sectionName ?? '') === (parent.sectionName ?? ''),
  );
  for (const p of parents) {
    for (const c of p.conditions ?? []) {
      if ((c.type === 'Accepted' || c.type === 'ResolvedRefs') && c.status === 'False') {
        throw new GatewayConfigProblem(
          `${ref.kind} ${ref.namespace}/${ref.name}: the AWS Load Balancer Controller reports ${c.type} False for Gateway ${parent.namespace ?? ref.namespace}/${parent.name}` +
            `${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}; its ALB will not carry the route's weights until that is fixed`,
        );
      }
    }
  }
}
