// What a Gateway-mode check looks for, from Kubernetes (docs/gateway-api-facts.md §9.1 steps 1-3): per driven route
// and Gateway parentRef (a "unit"), the load balancer the LBC built from the Gateway, the listener ports the
// parentRef attaches to, the target groups of the Rollout's Services from the LBC's TargetGroupBindings for the
// Gateway, and the conditions of the ALB rules each driven route rule becomes. A configuration the LBC cannot build
// an ALB for is a GatewayConfigProblem (answered with Err); one that is not there yet is a reason ("not yet").

import type { Elbv2 } from '../../../aws/elbv2.js';
import type { DesiredWeight } from '../../../core/weights.js';
import { expectedSignatures, type ExpectedWeight, type Signature } from '../alb-rules.js';
import type { HTTPRouteClient } from '../client.js';
import type { GatewayConfig, RouteRef } from '../config.js';
import type { GatewayBinding, GatewayReader } from '../k8s.js';
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
  route: string;
  gateway: string;
  lbArn: string;
  ports: number[];
  stableTg: string;
  /** Per driven route rule: its label and the signatures of its ALB rules. */
  rules: Array<{ label: string; signatures: Signature[] }>;
  expected: ExpectedWeight[];
  /** Target group ARN → Service, for the report. */
  services: Map<string, string>;
}

export interface DiscoveryDeps {
  elbv2: Pick<Elbv2, 'findLoadBalancer'>;
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
  const needle = `:${ref.namespace}-${ref.name}:HTTPRoute-${at.config.namespace}-${service}:`;
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
    const routeLabel = `HTTPRoute ${ref.namespace}/${ref.name}`;
    const route: HTTPRoute = await deps.routes.get(ref.namespace, ref.name, { signal });
    let indices: number[];
    try {
      indices = selectRules(route, ref, config);
    } catch (err) {
      throw new GatewayConfigProblem((err as Error).message);
    }
    const parents = (route.spec.parentRefs ?? []).filter((p) => (p.kind ?? 'Gateway') === 'Gateway' && (p.group ?? GATEWAY_GROUP) === GATEWAY_GROUP);
    if (parents.length === 0) throw new GatewayConfigProblem(`${routeLabel} has no Gateway in spec.parentRefs; attach it to a Gateway of the ALB controller`);
    for (const parent of parents) {
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
  if (!gw) throw new GatewayConfigProblem(`${gwLabel} (a parentRef of HTTPRoute ${ref.namespace}/${ref.name}) does not exist`);
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
      at.counter.calls++;
      lbArn = (await deps.elbv2.findLoadBalancer((lb) => (lb.DNSName ?? '').toLowerCase() === host, { signal }))?.LoadBalancerArn;
    }
  }
  if (!lbArn) {
    at.reasons.push(`no load balancer found for ${gwLabel} yet (not Programmed, no address)`);
    return undefined;
  }
  const listeners = gw.spec.listeners ?? [];
  let ports: number[];
  if (parent.sectionName) ports = listeners.filter((l) => l.name === parent.sectionName).map((l) => l.port);
  else if (parent.port !== undefined) ports = [parent.port];
  else ports = listeners.filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS').map((l) => l.port);
  ports = [...new Set(ports)].sort((a, b) => a - b);
  if (ports.length === 0) throw new GatewayConfigProblem(`${gwLabel} has no listener for parentRef ${JSON.stringify(parent)} of HTTPRoute ${ref.namespace}/${ref.name}`);

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
    at.reasons.push(`${gwLabel}: no target group for the stable Service ${config.services.stable} of HTTPRoute ${ref.namespace}/${ref.name} yet`);
    return undefined;
  }
  // The LBC's hostnames per listener (hostnames.ts), united over the attached ones.
  const attached = listeners.filter((l) => ports.includes(l.port) && (!parent.sectionName || l.name === parent.sectionName));
  const hostnames = [...new Set(attached.flatMap((l) => effectiveHostnames(route.spec.hostnames ?? [], l.hostname)))];
  const rules = indices.map((i) => ({
    label: route.spec.rules![i]!.name ? `rule "${route.spec.rules![i]!.name}"` : `spec.rules[${i}]`,
    signatures: expectedSignatures(route.spec.rules![i]!, hostnames),
  }));
  const key = JSON.stringify([ref, gwNs, parent.name, lbArn, ports, stableTg, rules]);
  return { key, route: `${ref.namespace}/${ref.name}`, gateway: `${gwNs}/${parent.name}`, lbArn, ports, stableTg, rules, expected, services };
}
