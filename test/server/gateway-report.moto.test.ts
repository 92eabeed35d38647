// The JSON API for a Rollout in Gateway mode, through fastify inject: the report source built on the real Gateway
// verifier against moto (through the counting proxy), on an ALB seeded as the LBC builds it from a Gateway and an
// HTTPRoute; the Kubernetes side (route, Gateway, class, the LBC's TargetGroupBindings) in memory and the target
// check a fake of its real shape.
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createElbv2 } from '../../src/aws/elbv2.js';
import type { Rollout } from '../../src/core/rollout.js';
import type { HTTPRouteClient } from '../../src/modes/gateway/client.js';
import type { GatewayBinding, GatewayObject, GatewayReader } from '../../src/modes/gateway/k8s.js';
import type { HTTPRoute } from '../../src/modes/gateway/route/model.js';
import { createGatewayVerifier } from '../../src/modes/gateway/verify/verifier.js';
import { createMetrics } from '../../src/metrics.js';
import { buildServer } from '../../src/server/app.js';
import type { TargetsReport } from '../../src/verify/target-health.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import { createLoadBalancer, createNetwork, type SeededLoadBalancer } from '../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { reportSourceOver } from './fixtures.js';

const PLUGIN = 'argoproj-labs/alb';
const NS = 'apps';

let moto: Moto;
let proxy: Elbv2Proxy;
let direct: ElasticLoadBalancingV2Client;

interface Seeded {
  lb: SeededLoadBalancer;
  tg: Record<string, string>;
  main: string;
}

const forward = (weights: Record<string, number>, tg: Record<string, string>): Action[] => [
  { Type: 'forward', ForwardConfig: { TargetGroups: Object.entries(weights).map(([svc, Weight]) => ({ TargetGroupArn: tg[svc]!, Weight })) } },
];

/** What the LBC makes of route `shop` [main / → stable 80 / canary 20]. */
async function seed(): Promise<Seeded> {
  const net = await createNetwork(moto.endpoint);
  const lb = await createLoadBalancer(direct, net, { name: 'k8s-apps-shop-0123456789' });
  const tg: Record<string, string> = {};
  for (const svc of ['shop-stable', 'shop-canary']) {
    const out = await direct.send(new CreateTargetGroupCommand({ Name: `k8s-apps-shop-${svc}`, Protocol: 'HTTP', Port: 8080, VpcId: net.vpcId, TargetType: 'ip' }));
    tg[svc] = out.TargetGroups![0]!.TargetGroupArn!;
  }
  const l = await direct.send(
    new CreateListenerCommand({ LoadBalancerArn: lb.arn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }),
  );
  const main = (
    await direct.send(
      new CreateRuleCommand({
        ListenerArn: l.Listeners![0]!.ListenerArn!,
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
        Actions: forward({ 'shop-stable': 80, 'shop-canary': 20 }, tg),
      }),
    )
  ).Rules![0]!.RuleArn!;
  return { lb, tg, main };
}

class World implements GatewayReader, HTTPRouteClient {
  route: HTTPRoute = {
    metadata: { name: 'shop', namespace: NS, resourceVersion: '1' },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop', sectionName: 'http' }],
      rules: [{ name: 'main', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'shop-stable', port: 80, weight: 80 }, { name: 'shop-canary', port: 80, weight: 20 }] }],
    },
  };
  gateway: GatewayObject;
  bindings: GatewayBinding[];
  constructor(s: Seeded) {
    this.gateway = {
      metadata: { name: 'shop', namespace: NS },
      spec: { gatewayClassName: 'alb', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
      status: { addresses: [{ type: 'Hostname', value: s.lb.hostname }], conditions: [{ type: 'Programmed', status: 'True', message: s.lb.arn }] },
    };
    this.bindings = ['shop-stable', 'shop-canary'].map((svc) => ({ name: `tgb-${svc}`, serviceName: svc, servicePort: 80, targetGroupArn: s.tg[svc]! }));
  }
  async get(): Promise<HTTPRoute> {
    return structuredClone(this.route);
  }
  async patch(): Promise<HTTPRoute> {
    throw new Error('the report never writes');
  }
  async getGateway(ns: string, name: string) {
    return ns === NS && name === 'shop' ? structuredClone(this.gateway) : undefined;
  }
  async getGatewayClass(name: string) {
    return name === 'alb' ? { spec: { controllerName: 'gateway.k8s.aws/alb' } } : undefined;
  }
  async listGatewayBindings(ns: string, gwNs: string, gw: string) {
    return ns === NS && gwNs === NS && gw === 'shop' ? this.bindings : [];
  }
}

function rollout(weight: number, resourceVersion = '1'): Rollout {
  return {
    metadata: { name: 'shop', namespace: NS, uid: 'uid-shop', resourceVersion },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { [PLUGIN]: { httpRoute: 'shop' } } },
          steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }],
        },
      },
    },
    status: { canary: { weights: { canary: { weight, serviceName: 'shop-canary' }, stable: { weight: 100 - weight, serviceName: 'shop-stable' } } } },
  };
}

function targets(ns: string, service: string): TargetsReport {
  return {
    namespace: ns,
    service,
    mode: 'healthy',
    verified: true,
    reasons: [],
    targetGroups: [
      { targetGroupBinding: `tgb-${service}`, targetGroupArn: s.tg[service]!, targetType: 'ip', expected: 2, registered: 2, healthy: 2, verified: true, missing: [], states: { healthy: 2 } },
    ],
  };
}

let s: Seeded;
let current: Rollout;

function app() {
  const world = new World(s);
  const elbv2 = createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 });
  const verifier = createGatewayVerifier({ enabled: true, elbv2, routes: world, gateways: world });
  const source = reportSourceOver({
    pluginName: PLUGIN,
    // Every /verify here is a new check of the ALB (the per-Rollout bound is tested in rollout-report.test.ts).
    minCheckIntervalMs: 0,
    getRollout: async (ns, name) => (ns === NS && name === 'shop' ? current : undefined),
    weights: {
      report: async () => {
        throw new Error('a Gateway-mode Rollout never gets the Ingress report');
      },
    },
    targets: { verifyTargets: async (ns, svc) => targets(ns, svc) },
    ingressHostnames: async () => [],
    gateway: { report: (config, desired, signal) => verifier.report(config, desired, signal) },
    now: () => new Date('2026-12-05T12:00:00Z'),
  });
  return buildServer({ registry: createMetrics().registry, readiness: [], reports: source, pluginName: PLUGIN });
}

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  direct = elbv2Client(moto.endpoint);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  s = await seed();
  proxy.resetCounts();
});

describe('Gateway mode JSON API against moto', () => {
  it('verified at 20: the ALB rule found by its conditions carries 80/20 per Service; warm, /verify is one DescribeRules', async () => {
    current = rollout(20);
    const server = app();
    const res = await server.inject('/api/v1/rollouts/apps/shop/verify');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      rollout: { namespace: NS, name: 'shop', strategy: 'canary', desiredWeight: 20 },
      verified: true,
      reasons: [],
      checkedAt: '2026-12-05T12:00:00.000Z',
      ingresses: [],
      gateway: {
        routes: [`${NS}/shop`],
        expectedWeights: { 'shop-canary': 20, 'shop-stable': 80 },
        rules: [
          {
            route: `${NS}/shop`,
            routeKind: 'HTTPRoute',
            gateway: `${NS}/shop`,
            rule: 'rule "main"',
            ruleArn: s.main,
            expectedWeights: { 'shop-canary': 20, 'shop-stable': 80 },
            actualWeights: { 'shop-stable': 80, 'shop-canary': 20 },
            verified: true,
          },
        ],
        verified: true,
        reasons: [],
      },
      targetGroups: ['shop-stable', 'shop-canary'].map((svc) => ({
        service: svc,
        targetGroupBinding: `tgb-${svc}`,
        arn: s.tg[svc],
        expectedTargets: 2,
        registeredTargets: 2,
        healthyTargets: 2,
        verified: true,
        reasons: [],
      })),
    });
    expect(proxy.counts()).toEqual({ DescribeListeners: 1, DescribeRules: 1 });
    proxy.resetCounts();
    // The plain route serves the recent report; /verify checks again, warm: one call.
    expect((await server.inject('/api/v1/rollouts/apps/shop')).json().verified).toBe(true);
    expect(proxy.counts()).toEqual({});
    expect((await server.inject('/api/v1/rollouts/apps/shop/verify')).json().verified).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
    await server.close();
  });

  it('not verified at 50 while the ALB still carries 80/20, with the Service and both weights; verified once the LBC wrote 50/50', async () => {
    current = rollout(50, '2');
    const server = app();
    const body = (await server.inject('/api/v1/rollouts/apps/shop/verify')).json();
    expect(body.verified).toBe(false);
    expect(body.gateway.verified).toBe(false);
    expect(body.gateway.rules).toEqual([
      expect.objectContaining({ ruleArn: s.main, expectedWeights: { 'shop-canary': 50, 'shop-stable': 50 }, actualWeights: { 'shop-stable': 80, 'shop-canary': 20 }, verified: false }),
    ]);
    expect(body.reasons).toEqual([
      expect.stringMatching(/HTTPRoute apps\/shop rule "main": Service shop-canary has weight 20, expected 50$/),
      expect.stringMatching(/HTTPRoute apps\/shop rule "main": Service shop-stable has weight 80, expected 50$/),
    ]);
    expect(body.gateway.reasons).toEqual(body.reasons);

    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Actions: forward({ 'shop-stable': 50, 'shop-canary': 50 }, s.tg) }));
    const again = (await server.inject('/api/v1/rollouts/apps/shop/verify')).json();
    expect(again).toMatchObject({ verified: true, reasons: [], gateway: { verified: true, rules: [{ actualWeights: { 'shop-stable': 50, 'shop-canary': 50 }, verified: true }] } });
    await server.close();
  });
});
