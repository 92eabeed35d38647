// The ALB the LBC builds from a Gateway and an HTTPRoute, seeded in moto, and the Kubernetes side (route, Gateway,
// class, the LBC's TargetGroupBindings) in memory: shared by the Gateway verifier's moto tests and the benchmark.
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { HTTPRouteClient } from '../../../src/modes/gateway/client.js';
import type { GatewayBinding, GatewayObject, GatewayReader } from '../../../src/modes/gateway/k8s.js';
import { applyJsonPatch, type JsonPatchOp } from '../../../src/modes/gateway/json-patch.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';
import { createLoadBalancer, createNetwork, type Network, type SeededLoadBalancer } from '../../support/lbc-seed.js';

export const NS = 'apps';

export interface Seeded {
  lb: SeededLoadBalancer;
  listener: string;
  tg: Record<string, string>;
  api: string;
  main: string;
  beta: string;
}

export const forward = (weights: Record<string, number>, tg: Record<string, string>): Action[] => [
  { Type: 'forward', ForwardConfig: { TargetGroups: Object.entries(weights).map(([svc, Weight]) => ({ TargetGroupArn: tg[svc]!, Weight })) } },
];
export const path = (...Values: string[]): RuleCondition => ({ Field: 'path-pattern', PathPatternConfig: { Values } });
export const header = (name: string, ...Values: string[]): RuleCondition => ({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: name, Values } });

/**
 * What the LBC makes of route `shop` [api /api → api; main / → stable 80 / canary 20; beta / + X-Beta → canary].
 * `net` reuses a network; `suffix` keeps names unique when more than one is seeded in the same moto.
 */
export async function seedGatewayAlb(direct: ElasticLoadBalancingV2Client, endpoint: string, opts: { net?: Network; suffix?: string } = {}): Promise<Seeded> {
  const net = opts.net ?? (await createNetwork(endpoint));
  const suffix = opts.suffix ?? '';
  const lb = await createLoadBalancer(direct, net, { name: `k8s-apps-shop-0123456789${suffix}`.slice(0, 32) });
  const tg: Record<string, string> = {};
  for (const svc of ['api', 'shop-stable', 'shop-canary', 'other-stable']) {
    const out = await direct.send(new CreateTargetGroupCommand({ Name: `k8s-apps-shop${suffix}-${svc}`.slice(0, 32), Protocol: 'HTTP', Port: 8080, VpcId: net.vpcId, TargetType: 'ip' }));
    tg[svc] = out.TargetGroups![0]!.TargetGroupArn!;
  }
  const l = await direct.send(
    new CreateListenerCommand({ LoadBalancerArn: lb.arn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }),
  );
  const listener = l.Listeners![0]!.ListenerArn!;
  const rule = async (Priority: number, Conditions: RuleCondition[], Actions: Action[]) =>
    (await direct.send(new CreateRuleCommand({ ListenerArn: listener, Priority, Conditions, Actions }))).Rules![0]!.RuleArn!;
  const api = await rule(1, [path('/api', '/api/*')], forward({ api: 1 }, tg));
  const beta = await rule(2, [path('/*'), header('X-Beta', 'yes')], forward({ 'shop-canary': 1 }, tg));
  const main = await rule(3, [path('/*')], forward({ 'shop-stable': 80, 'shop-canary': 20 }, tg));
  return { lb, listener, tg, api, main, beta };
}

export function route(): HTTPRoute {
  return {
    metadata: { name: 'shop', namespace: NS, resourceVersion: '1' },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop', sectionName: 'http' }],
      rules: [
        { name: 'main', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'shop-stable', port: 80, weight: 80 }, { name: 'shop-canary', port: 80, weight: 20 }] },
        { name: 'beta', matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Beta', value: 'yes' }] }], backendRefs: [{ name: 'shop-canary', port: 80 }] },
        { name: 'api', matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'api', port: 80 }] },
      ],
    },
  };
}

/** Gateway `shop` (class alb, Programmed with the ALB's ARN), route `shop` and the LBC's TargetGroupBindings. */
export class World implements GatewayReader, HTTPRouteClient {
  route = route();
  gateway: GatewayObject;
  controller = 'gateway.k8s.aws/alb';
  bindings: GatewayBinding[];
  constructor(readonly s: Seeded) {
    this.gateway = {
      metadata: { name: 'shop', namespace: NS },
      spec: { gatewayClassName: 'alb', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
      status: { addresses: [{ type: 'Hostname', value: s.lb.hostname }], conditions: [{ type: 'Programmed', status: 'True', message: s.lb.arn }] },
    };
    this.bindings = ['api', 'shop-stable', 'shop-canary'].map((svc) => ({ name: `tgb-${svc}`, serviceName: svc, servicePort: 80, targetGroupArn: s.tg[svc]! }));
  }
  async get(): Promise<HTTPRoute> {
    return structuredClone(this.route);
  }
  patches = 0;
  async patch(_ns: string, _name: string, ops: JsonPatchOp[]): Promise<HTTPRoute> {
    this.patches++;
    applyJsonPatch(this.route, ops);
    this.route.metadata.resourceVersion = String(Number(this.route.metadata.resourceVersion) + 1);
    return structuredClone(this.route);
  }
  async getGateway(ns: string, name: string) {
    return ns === NS && name === 'shop' ? structuredClone(this.gateway) : undefined;
  }
  async getGatewayClass(name: string) {
    return name === 'alb' ? { spec: { controllerName: this.controller } } : undefined;
  }
  async listGatewayBindings(ns: string, gwNs: string, gw: string) {
    return ns === NS && gwNs === NS && gw === 'shop' ? this.bindings : [];
  }
}
