// Gateway API on the real AWS Load Balancer Controller (its ALBGatewayAPI feature, startStack({gatewayApi: true})):
// the CRDs scripts/e2e/build.sh copies out of the module zips, YAML builders for what a user writes (GatewayClass,
// Gateway with its LoadBalancerConfiguration, HTTPRoute with weighted backendRefs), and readers of what the LBC
// made of them: the Gateway's ALB hostname, the listener rules in moto with weights per Service (through the
// TargetGroupBindings the LBC creates) and the tags it put on rules and target groups. Facts behind all of it,
// with references into the LBC source: docs/gateway-api-facts.md.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CustomObjectsApi, loadAllYaml, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import type { Observer } from './observe.js';
import { conditionText, type Places } from './rules.js';

/** GatewayClass.spec.controllerName the LBC's ALB gateway controller owns (pkg/gateway/constants). */
export const ALB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/alb';
/** Tag prefix of everything the ALB gateway controller creates: `<prefix>/stack`, `<prefix>/resource`. */
export const ALB_GATEWAY_TAG_PREFIX = 'gateway.k8s.aws.alb';
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/**
 * The CustomResourceDefinitions of the Gateway API standard channel and the LBC's gateway.k8s.aws CRDs, from the
 * manifests dir scripts/e2e/build.sh fills (gateway_manifests). The standard channel also holds a
 * ValidatingAdmissionPolicy against channel downgrades; only the CRDs are returned.
 */
export function gatewayApiCrds(peersDir: string): KubernetesObject[] {
  const files = ['manifests/gateway-api-crds.yaml', 'manifests/lbc-gateway-crds.yaml'].map((f) => join(peersDir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`Gateway API CRDs missing: ${missing.join(', ')} (run \`bash scripts/e2e/build.sh\`)`);
  return files.flatMap((f) =>
    (loadAllYaml(readFileSync(f, 'utf8')) as KubernetesObject[]).filter((d) => d?.kind === 'CustomResourceDefinition'),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// What a user writes. Builders return YAML without a trailing separator; yamlDocs joins them (and support/app.ts's).

/** Joins YAML texts into one multi-document text, without empty documents (which loadAllYaml cannot take). */
export function yamlDocs(...parts: string[]): string {
  return parts
    .map((p) => p.trim().replace(/^---\s*/, '').replace(/\s*---$/, '').trim())
    .filter((p) => p.length > 0)
    .join('\n---\n');
}

/** A cluster-scoped GatewayClass for the LBC's ALB controller (apply it without a namespace). */
export function gatewayClass(name: string): string {
  return `
apiVersion: ${GATEWAY_GROUP}/v1
kind: GatewayClass
metadata: {name: ${name}}
spec: {controllerName: ${ALB_GATEWAY_CONTROLLER}}
`;
}

export interface GatewayOptions {
  className: string;
  /** Listener name (the HTTPRoute's parentRefs[].sectionName) and port; default http / 80. */
  listener?: string;
  port?: number;
}

/**
 * A Gateway with one HTTP listener, and the LoadBalancerConfiguration its infrastructure.parametersRef names:
 * internet-facing (the LBC defaults to internal, and the stack's subnets carry the kubernetes.io/role/elb tag)
 * with IP targets for every Service backend (the LBC defaults to instance targets), through a
 * TargetGroupConfiguration without targetReference used as the Gateway's default.
 */
export function gateway(name: string, opts: GatewayOptions): string {
  return `
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata: {name: ${name}-ip-targets}
spec:
  defaultConfiguration: {targetType: ip}
---
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata: {name: ${name}}
spec:
  scheme: internet-facing
  defaultTargetGroupConfiguration: {name: ${name}-ip-targets}
---
apiVersion: ${GATEWAY_GROUP}/v1
kind: Gateway
metadata: {name: ${name}}
spec:
  gatewayClassName: ${opts.className}
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: ${name}}
  listeners:
  - name: ${opts.listener ?? 'http'}
    protocol: HTTP
    port: ${opts.port ?? 80}
    allowedRoutes: {namespaces: {from: Same}}
`;
}

export interface Backend {
  service: string;
  port?: number;
  /** Omitted: the Gateway API default of 1. */
  weight?: number;
}

export interface HeaderMatch {
  name: string;
  value: string;
  type?: 'Exact' | 'RegularExpression';
}

export interface RouteRule {
  /** HTTPRouteRule.name (the LBC does not use it; it is the plugin's handle on a rule). */
  name?: string;
  /** Path match; default PathPrefix / (the CRD's own default). */
  path?: { type: 'PathPrefix' | 'Exact' | 'RegularExpression'; value: string };
  headers?: HeaderMatch[];
  backends: Backend[];
}

export interface RouteOptions {
  gateway: string;
  sectionName?: string;
  hostnames?: string[];
}

const q = (s: string): string => JSON.stringify(s);

function headersYaml(headers: HeaderMatch[] | undefined): string {
  return headers?.length ? `\n      headers:\n${headers.map((h) => `      - {type: ${h.type ?? 'Exact'}, name: ${q(h.name)}, value: ${q(h.value)}}`).join('\n')}` : '';
}

function backendsYaml(backends: Backend[]): string {
  return backends.map((b) => `    - {name: ${b.service}, port: ${b.port ?? 80}${b.weight === undefined ? '' : `, weight: ${b.weight}`}}`).join('\n');
}

/** A route of `kind` attached to one Gateway listener, with its rules already rendered. */
function routeDoc(kind: 'HTTPRoute' | 'GRPCRoute', name: string, opts: RouteOptions, rulesYaml: string): string {
  return `
apiVersion: ${GATEWAY_GROUP}/v1
kind: ${kind}
metadata: {name: ${name}}
spec:
  parentRefs:
  - {group: ${GATEWAY_GROUP}, kind: Gateway, name: ${opts.gateway}${opts.sectionName ? `, sectionName: ${opts.sectionName}` : ''}}${
    opts.hostnames?.length ? `\n  hostnames: [${opts.hostnames.map(q).join(', ')}]` : ''
  }
  rules:
${rulesYaml}
`;
}

/** An HTTPRoute attached to one Gateway listener; every rule has one match (path, optional headers). */
export function httpRoute(name: string, opts: RouteOptions, rules: RouteRule[]): string {
  const rulesYaml = rules
    .map((r) => {
      const path = r.path ?? { type: 'PathPrefix', value: '/' };
      return `  - ${r.name ? `name: ${r.name}\n    ` : ''}matches:
    - path: {type: ${path.type}, value: ${q(path.value)}}${headersYaml(r.headers)}
    backendRefs:
${backendsYaml(r.backends)}`;
    })
    .join('\n');
  return routeDoc('HTTPRoute', name, opts, rulesYaml);
}

export interface GrpcRouteRule {
  /** GRPCRouteRule.name (the plugin's handle on a rule). */
  name?: string;
  /** GRPCMethodMatch (type Exact); no method: every service and method (the LBC's path `/*`). */
  method?: { service?: string; method?: string };
  headers?: HeaderMatch[];
  backends: Backend[];
}

/** A GRPCRoute attached to one Gateway listener (GRPCRoutes attach to HTTPS listeners only); one match per rule. */
export function grpcRoute(name: string, opts: RouteOptions, rules: GrpcRouteRule[]): string {
  const rulesYaml = rules
    .map((r) => {
      const method = r.method
        ? `\n      method: {type: Exact${r.method.service ? `, service: ${q(r.method.service)}` : ''}${r.method.method ? `, method: ${q(r.method.method)}` : ''}}`
        : '';
      const headers = headersYaml(r.headers);
      const matches = method || headers ? `matches:\n    - ${(method + headers).replace(/^\n      /, '')}\n    ` : '';
      return `  - ${r.name ? `name: ${r.name}\n    ` : ''}${matches}backendRefs:
${backendsYaml(r.backends)}`;
    })
    .join('\n');
  return routeDoc('GRPCRoute', name, opts, rulesYaml);
}

/**
 * A Gateway with one HTTPS listener `https` on 443 for `hostname`, its certificate (an ACM ARN, moto's in the
 * suite: support/aws.ts acmCertificate) set through the LoadBalancerConfiguration, otherwise as gateway() builds it.
 */
export function httpsGateway(name: string, opts: { className: string; certificateArn: string; hostname: string }): string {
  return `
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata: {name: ${name}-ip-targets}
spec:
  defaultConfiguration: {targetType: ip}
---
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata: {name: ${name}}
spec:
  scheme: internet-facing
  defaultTargetGroupConfiguration: {name: ${name}-ip-targets}
  listenerConfigurations:
  - {protocolPort: "HTTPS:443", defaultCertificate: ${q(opts.certificateArn)}}
---
apiVersion: ${GATEWAY_GROUP}/v1
kind: Gateway
metadata: {name: ${name}}
spec:
  gatewayClassName: ${opts.className}
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: ${name}}
  listeners:
  - {name: https, protocol: HTTPS, port: 443, hostname: ${q(opts.hostname)}, allowedRoutes: {namespaces: {from: Same}}}
`;
}

/** Services selecting `app` and a ReplicaSet of its pods on the kwok Node (kube-controller-manager runs no Deployment controller). */
export function appPods(app: string, node: string, replicas = 2): string {
  return `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: ${app}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${app}}}
  template:
    metadata: {labels: {app: ${app}}}
    spec:
      nodeName: ${node}
      containers:
      - {name: app, image: registry.example.com/demo:1.0.0, ports: [{containerPort: 8080}]}
`;
}

// ---------------------------------------------------------------------------------------------------------------
// What the LBC made of it.

interface GatewayObject extends KubernetesObject {
  metadata: { name: string; namespace: string; generation?: number; resourceVersion?: string };
  status?: {
    addresses?: Array<{ type?: string; value: string }>;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string; observedGeneration?: number }>;
  };
}

export interface HTTPRouteObject extends KubernetesObject {
  metadata: { name: string; namespace: string; generation?: number; resourceVersion?: string };
  spec: {
    rules: Array<{
      name?: string;
      matches?: unknown[];
      backendRefs?: Array<{ name: string; port?: number; weight?: number; kind?: string; group?: string; namespace?: string }>;
    }>;
  };
  status?: {
    parents?: Array<{
      parentRef: { name: string; sectionName?: string };
      controllerName: string;
      conditions?: Array<{ type: string; status: string; reason?: string; message?: string; observedGeneration?: number }>;
    }>;
  };
}

const custom = (obs: Observer): CustomObjectsApi => obs.custom;

export async function readGateway(obs: Observer, ns: string, name: string): Promise<GatewayObject> {
  return (await custom(obs).getNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace: ns, plural: 'gateways', name })) as GatewayObject;
}

export async function readHTTPRoute(obs: Observer, ns: string, name: string, plural: 'httproutes' | 'grpcroutes' = 'httproutes'): Promise<HTTPRouteObject> {
  return (await custom(obs).getNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace: ns, plural, name })) as HTTPRouteObject;
}

/** A GRPCRoute, read as an HTTPRouteObject: the fields these helpers read (rules' names and backendRefs, status) are the same. */
export async function readGRPCRoute(obs: Observer, ns: string, name: string): Promise<HTTPRouteObject> {
  return readHTTPRoute(obs, ns, name, 'grpcroutes');
}

/** The ALB's DNS name, from Gateway.status.addresses (type Hostname, lower-cased by the LBC). */
export async function gatewayHostname(obs: Observer, ns: string, name: string, timeoutMs = 120_000): Promise<string> {
  return obs.until(
    `an address in Gateway ${ns}/${name} status`,
    async () => {
      const gw = await readGateway(obs, ns, name);
      const a = gw.status?.addresses?.find((x) => (x.type ?? 'IPAddress') === 'Hostname');
      return a?.value || undefined;
    },
    timeoutMs,
    () => diagnoseGateway(obs, ns, name),
  );
}

/** The load balancer ARN, from the message of the Gateway's Programmed=True condition (where the LBC writes it). */
export function programmedArn(gw: GatewayObject): string | undefined {
  const c = gw.status?.conditions?.find((x) => x.type === 'Programmed' && x.status === 'True');
  return c?.message?.startsWith('arn:') ? c.message : undefined;
}

export async function loadBalancerByDnsName(elbv2: ElasticLoadBalancingV2Client, hostname: string): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeLoadBalancersCommand({ ...(marker ? { Marker: marker } : {}) }));
    const lb = page.LoadBalancers?.find((l) => (l.DNSName ?? '').toLowerCase() === hostname.toLowerCase());
    if (lb) return lb.LoadBalancerArn;
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

export interface GatewayRule {
  listenerPort: number;
  listenerArn: string;
  priority: string;
  ruleArn: string;
  conditions: NonNullable<Rule['Conditions']>;
  actionTypes: string[];
  /** Target group ARN → weight of the forward action. */
  weights: Map<string, number>;
  /** Service name → weight, through the TargetGroupBindings of the namespace (ARN when none names it). */
  services: Record<string, number>;
}

async function tagsOf(elbv2: ElasticLoadBalancingV2Client, arns: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const res = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of res.TagDescriptions ?? []) out.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
  }
  return out;
}

/** Tags of rules, target groups or load balancers (DescribeTags, 20 ARNs per call). */
export async function resourceTags(obs: Observer, arns: string[]): Promise<Map<string, Record<string, string>>> {
  return tagsOf(obs.stack.elbv2, arns);
}

/** Every non-default rule of every listener of the Gateway's ALB, in priority order, with weights per Service. */
export async function gatewayRules(obs: Observer, ns: string, gatewayName: string): Promise<GatewayRule[]> {
  const elbv2 = obs.stack.elbv2;
  const host = await gatewayHostname(obs, ns, gatewayName);
  const lb = await loadBalancerByDnsName(elbv2, host);
  if (!lb) return [];
  const names = await obs.targetGroupServices(ns);
  const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb }))).Listeners ?? [];
  const out: GatewayRule[] = [];
  for (const l of listeners) {
    const rules = (await elbv2.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn! }))).Rules ?? [];
    for (const r of rules) {
      if (r.IsDefault) continue;
      const weights = new Map<string, number>();
      for (const a of r.Actions ?? []) {
        if (a.Type !== 'forward') continue;
        if (a.ForwardConfig?.TargetGroups?.length) {
          for (const tg of a.ForwardConfig.TargetGroups) weights.set(tg.TargetGroupArn!, tg.Weight ?? 1);
        } else if (a.TargetGroupArn) weights.set(a.TargetGroupArn, 1);
      }
      out.push({
        listenerPort: l.Port ?? 0,
        listenerArn: l.ListenerArn!,
        priority: r.Priority ?? '',
        ruleArn: r.RuleArn!,
        conditions: r.Conditions ?? [],
        actionTypes: (r.Actions ?? []).map((a) => a.Type ?? ''),
        weights,
        services: Object.fromEntries([...weights].map(([arn, w]) => [names.get(arn) ?? arn, w])),
      });
    }
  }
  return out.sort((a, b) => a.listenerPort - b.listenerPort || Number(a.priority) - Number(b.priority));
}

/** Values of the rule's http-header condition for `name` (case-insensitive), or undefined. */
export function headerCondition(rule: GatewayRule, name: string): { values?: string[]; regexValues?: string[] } | undefined {
  const c = rule.conditions.find((x) => x.Field === 'http-header' && x.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() === name.toLowerCase());
  if (!c) return undefined;
  const cfg = c.HttpHeaderConfig as { Values?: string[]; RegexValues?: string[] };
  return { ...(cfg.Values ? { values: cfg.Values } : {}), ...(cfg.RegexValues ? { regexValues: cfg.RegexValues } : {}) };
}

export function pathValues(rule: GatewayRule): string[] {
  return rule.conditions.find((x) => x.Field === 'path-pattern')?.PathPatternConfig?.Values ?? [];
}

/**
 * The weights per Service of the rule that forwards to `service` and has no http-header condition (the route's
 * catch-all for that backend), or undefined while there is none.
 */
export async function catchAllRule(obs: Observer, ns: string, gatewayName: string, service: string): Promise<GatewayRule | undefined> {
  const rules = await gatewayRules(obs, ns, gatewayName);
  return rules.find((r) => service in r.services && !r.conditions.some((c) => c.Field === 'http-header'));
}

/**
 * The places a Gateway-mode Rollout carries weights, for a Timeline: the backendRefs of every rule of each route
 * that names `stable` (`route <name> <rule>`), and every ALB rule of the Gateway, on every listener, that forwards to
 * `stable` without an http-header condition (`alb :<port> <conditions>`).
 */
export async function gatewayPlaces(obs: Observer, ns: string, gatewayName: string, routes: string[], stable: string, plural: 'httproutes' | 'grpcroutes' = 'httproutes'): Promise<Places> {
  const out: Places = {};
  for (const name of routes) {
    const route = await readHTTPRoute(obs, ns, name, plural);
    route.spec.rules.forEach((r, i) => {
      const refs = r.backendRefs ?? [];
      if (!refs.some((b) => b.name === stable)) return;
      out[`route ${name} ${r.name ?? `rules[${i}]`}`] = Object.fromEntries(refs.map((b) => [b.name, b.weight ?? 1]));
    });
  }
  for (const r of await gatewayRules(obs, ns, gatewayName)) {
    if (!(stable in r.services) || r.conditions.some((c) => c.Field === 'http-header')) continue;
    out[`alb :${r.listenerPort} ${conditionText(r.conditions)}`] = r.services;
  }
  return out;
}

/**
 * The target-group resource tag the LBC writes for a Service backend of a route (model_build_target_group.go):
 * the last part is the Service port's targetPort (a number or a port name), not the backendRef's port.
 */
export function targetGroupResourceId(gwNs: string, gw: string, routeNs: string, route: string, svcNs: string, svc: string, targetPort: number | string, kind = 'HTTPRoute'): string {
  return `${gwNs}/${gw}:${routeNs}-${route}:${kind}-${svcNs}-${svc}:${targetPort}`;
}

/**
 * Sets the weights of the named backendRefs of one rule the way the plugin's gateway mode is meant to: a JSON patch
 * that touches only `weight` fields, guarded by `test` operations on the resourceVersion and on each backendRef's
 * name, so a concurrent change of the route fails the patch (HTTP 422) instead of being overwritten. Returns the
 * new resourceVersion.
 */
export async function patchBackendWeights(
  obs: Observer,
  ns: string,
  route: string,
  ruleIndex: number,
  weights: Record<string, number>,
  /** The route as read before deciding the weights (default: read now); a stale one makes the patch fail. */
  read?: HTTPRouteObject,
): Promise<string> {
  const current = read ?? (await readHTTPRoute(obs, ns, route));
  const refs = current.spec.rules[ruleIndex]?.backendRefs ?? [];
  const ops: Array<Record<string, unknown>> = [{ op: 'test', path: '/metadata/resourceVersion', value: current.metadata.resourceVersion }];
  for (const [service, weight] of Object.entries(weights)) {
    const i = refs.findIndex((b) => b.name === service && (b.kind ?? 'Service') === 'Service' && !b.group);
    if (i < 0) throw new Error(`HTTPRoute ${ns}/${route} rule ${ruleIndex} has no backendRef for Service ${service}`);
    ops.push({ op: 'test', path: `/spec/rules/${ruleIndex}/backendRefs/${i}/name`, value: service });
    ops.push({ op: refs[i]!.weight === undefined ? 'add' : 'replace', path: `/spec/rules/${ruleIndex}/backendRefs/${i}/weight`, value: weight });
  }
  return (await patchHTTPRoute(obs, ns, route, ops)).metadata.resourceVersion ?? '';
}

/** A JSON patch (RFC 6902) of an HTTPRoute; a failed `test` operation answers HTTP 422 and changes nothing. */
export async function patchHTTPRoute(obs: Observer, ns: string, route: string, ops: Array<Record<string, unknown>>): Promise<HTTPRouteObject> {
  return (await custom(obs).patchNamespacedCustomObject(
    { group: GATEWAY_GROUP, version: 'v1', namespace: ns, plural: 'httproutes', name: route, body: ops },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  )) as HTTPRouteObject;
}

export async function diagnoseGateway(obs: Observer, ns: string, name: string): Promise<string> {
  const parts: string[] = [];
  const gw = await readGateway(obs, ns, name).catch((e: unknown) => String(e));
  parts.push(`gateway ${name}: ${JSON.stringify(typeof gw === 'string' ? gw : gw.status)}`);
  const routes = (await custom(obs)
    .listNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace: ns, plural: 'httproutes' })
    .catch(() => ({ items: [] }))) as { items: HTTPRouteObject[] };
  for (const r of routes.items) parts.push(`httproute ${r.metadata.name}: ${JSON.stringify(r.status)}`);
  const grpc = (await custom(obs)
    .listNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace: ns, plural: 'grpcroutes' })
    .catch(() => ({ items: [] }))) as { items: HTTPRouteObject[] };
  for (const r of grpc.items) parts.push(`grpcroute ${r.metadata.name}: ${JSON.stringify(r.status)}`);
  const events = await obs.events(ns, name).catch(() => []);
  parts.push(`gateway events: ${JSON.stringify(events)}`);
  parts.push(`--- lbc log:\n${obs.stack.logs('lbc', 4000)}`);
  return parts.join('\n');
}
