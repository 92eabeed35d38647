// Issue #20: N Rollouts on one ALB, verified at the same time, in each mode, through the one discovery the sidecar
// hands every mode (src/aws/discovery.ts), against moto behind the counting proxy. Cold, the whole round costs one
// DescribeLoadBalancers, one DescribeListeners, one DescribeRules per listener and ⌈tags/20⌉ DescribeTags, not that
// much per Rollout; warm, each check is still its one DescribeRules(RuleArns).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateRuleCommand, CreateTargetGroupCommand, CreateListenerCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Elbv2Discovery } from '../../src/aws/discovery.js';
import { createElbv2, type Elbv2 } from '../../src/aws/elbv2.js';
import type { Rollout } from '../../src/core/rollout.js';
import { desiredWeights } from '../../src/core/weights.js';
import { parseGatewayConfig } from '../../src/modes/gateway/config.js';
import type { GatewayBinding, GatewayObject, GatewayReader } from '../../src/modes/gateway/k8s.js';
import type { HTTPRouteClient } from '../../src/modes/gateway/client.js';
import type { HTTPRoute } from '../../src/modes/gateway/route/model.js';
import { gatewayWeightStep } from '../../src/modes/gateway/router.js';
import { createGatewayVerifier } from '../../src/modes/gateway/verify/verifier.js';
import { createWeightVerifier } from '../../src/modes/ingress/verify/verifier.js';
import { DRIVEN_TAG_KEY, DRIVEN_TAG_VALUE } from '../../src/modes/listener-rule/driven-tag.js';
import { withSharedDiscovery } from '../../src/modes/listener-rule/locate.js';
import { createListenerRuleRouter } from '../../src/modes/listener-rule/router.js';
import { RpcVerified } from '../../src/plugin/router.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../support/elbv2-proxy.js';
import {
  createForwardRule, createLbcTargetGroup, createListener, createLoadBalancer, createNetwork, forwardAction,
  type Network, type SeededLoadBalancer, type SeededTargetGroup,
} from '../support/lbc-seed.js';
import { elbv2Client, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../support/moto.js';
import { request, rollout } from '../verify/fixtures.js';
import { ElasticLoadBalancingV2Client as SdkClient } from '@aws-sdk/client-elastic-load-balancing-v2';

const N = 25;
let moto: Moto;
let proxy: Elbv2Proxy;
let aws: ElasticLoadBalancingV2Client;
let net: Network;
let elbv2: Elbv2;
let discovery: Elbv2Discovery;

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  aws = elbv2Client(moto.endpoint);
  net = await createNetwork(moto.endpoint);
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => {
  // As the sidecar builds them (src/verify/wiring.ts): one client, one discovery over it, for every mode.
  elbv2 = createElbv2({ client: new SdkClient({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }), rateLimit: 1000, rateBurst: 1000 });
  discovery = new Elbv2Discovery(elbv2);
});

describe(`Ingress mode: ${N} Rollouts, one Ingress each, in one IngressGroup's ALB (HTTP redirect + HTTPS)`, () => {
  let lb: SeededLoadBalancer;
  const tgs: Array<{ canary: SeededTargetGroup; stable: SeededTargetGroup }> = [];

  beforeAll(async () => {
    lb = await createLoadBalancer(aws, net, { name: 'k8s-shopgroup-0123456789' });
    await createListener(aws, lb.arn, 'http-redirect');
    const https = await createListener(aws, lb.arn, 'https', net.certificateArn);
    for (let i = 0; i < N; i++) {
      const tg = (svc: string) => createLbcTargetGroup(aws, net, { namespace: 'team', ingress: `ing-${i}`, service: `svc${i}-${svc}`, port: 80 });
      const pair = { canary: await tg('canary'), stable: await tg('stable') };
      tgs.push(pair);
      await createForwardRule(aws, https, { priority: i + 1, host: `app${i}.example.com`, tuples: [{ arn: pair.canary.arn, weight: 10 }, { arn: pair.stable.arn, weight: 90 }] });
    }
  }, 120_000);

  it('cold, verified together: 1 DescribeLoadBalancers, 1 DescribeListeners, 1 DescribeRules per listener, ⌈2N/20⌉ DescribeTags; warm, one DescribeRules each', async () => {
    const verifier = createWeightVerifier({
      enabled: true,
      elbv2,
      discovery,
      resourceTagKey: 'ingress.k8s.aws/resource',
      getIngress: async () => ({ status: { loadBalancer: { ingress: [{ hostname: lb.hostname }] } } }),
    });
    const req = (i: number) =>
      request({
        rollout: rollout({ namespace: 'team', uid: `ingress-${i}` }),
        ingresses: [`ing-${i}`],
        servicePort: 80,
        services: { stable: `svc${i}-stable`, canary: `svc${i}-canary`, action: `svc${i}-stable` },
      });
    proxy.resetCounts();
    const verdicts = await Promise.all(times(N, (i) => verifier.verifyWeight(req(i))));
    expect(verdicts).toEqual(times(N, () => ({ verified: RpcVerified.Verified })));
    // Before the shared discovery: 1 + 1 + 2N + N = 77 calls (the load balancer and its listeners were shared
    // within Ingress mode already; each Rollout read the rules of both listeners and its tags for itself).
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1, DescribeListeners: 1, DescribeRules: 2, DescribeTags: Math.ceil((2 * N) / 20) });

    proxy.resetCounts();
    const reports = await Promise.all(times(N, (i) => verifier.report(req(i))));
    expect(reports.every((r) => r.verified)).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: N });
  });
});

describe(`Gateway mode: ${N} HTTPRoutes (one per Rollout) on one Gateway's ALB`, () => {
  const NS = 'gw';
  let world: MultiRouteWorld;

  beforeAll(async () => {
    const lb = await createLoadBalancer(aws, net, { name: 'k8s-gw-shop-0123456789' });
    const listener = (await aws.send(new CreateListenerCommand({ LoadBalancerArn: lb.arn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] })))
      .Listeners![0]!.ListenerArn!;
    world = new MultiRouteWorld(NS, lb);
    for (let i = 0; i < N; i++) {
      const tg = async (svc: string) =>
        (await aws.send(new CreateTargetGroupCommand({ Name: `k8s-gw-r${i}-${svc}`, Protocol: 'HTTP', Port: 8080, VpcId: net.vpcId, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
      const stable = await tg('stable');
      const canary = await tg('canary');
      world.addRoute(i, stable, canary);
      await aws.send(new CreateRuleCommand({
        ListenerArn: listener,
        Priority: i + 1,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [`/r${i}`, `/r${i}/*`] } }],
        Actions: [forwardAction([{ arn: stable, weight: 80 }, { arn: canary, weight: 20 }])],
      }));
    }
  }, 120_000);

  it('cold, verified together: 1 DescribeLoadBalancers (the Gateway\'s address), 1 DescribeListeners, 1 DescribeRules; warm, one DescribeRules each', async () => {
    const verifier = createGatewayVerifier({ enabled: true, elbv2, discovery, routes: world, gateways: world });
    const step = (i: number) => {
      const r = world.rollout(i);
      const config = parseGatewayConfig(r, 'argoproj-labs/alb');
      const desired = desiredWeights({ desiredWeight: 20, additionalDestinations: [], maxWeight: 100, services: config.services });
      return { config, desired, step: gatewayWeightStep(r, config, 20, []) };
    };
    proxy.resetCounts();
    const verdicts = await Promise.all(times(N, (i) => {
      const s = step(i);
      return verifier.verifyWeight(s.step, s.config, s.desired);
    }));
    expect(verdicts).toEqual(times(N, () => ({ verified: RpcVerified.Verified })));
    // Before: N × (1 + 1 + 1) = 75 (a scan of the load balancers, the listeners and the rules, per Rollout; and the
    // scan again on every warm check of a Gateway without its ARN in Programmed).
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1, DescribeListeners: 1, DescribeRules: 1 });

    proxy.resetCounts();
    const reports = await Promise.all(times(N, (i) => verifier.report(step(i).config, step(i).desired)));
    expect(reports.every((r) => r.verified)).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: N });
  });
});

describe(`listener-rule mode: ${N} Rollouts, each driving its own rule on one listener of one ALB found by name`, () => {
  const NS = 'lr';
  const arns: Array<{ stable: string; canary: string }> = [];

  beforeAll(async () => {
    const lb = await createLoadBalancer(aws, net, { name: 'tf-shared-alb' });
    const listener = await createListener(aws, lb.arn, 'http');
    for (let i = 0; i < N; i++) {
      const tg = async (svc: string) =>
        (await aws.send(new CreateTargetGroupCommand({ Name: `tf-lr${i}-${svc}`, Protocol: 'HTTP', Port: 8080, VpcId: net.vpcId, TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
      const pair = { stable: await tg('stable'), canary: await tg('canary') };
      arns.push(pair);
      await aws.send(new CreateRuleCommand({
        ListenerArn: listener,
        Priority: i + 1,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`lr${i}.example.com`] } }],
        Actions: [forwardAction([{ arn: pair.canary, weight: 10 }, { arn: pair.stable, weight: 90 }])],
        // Opted in, as an operator tags the rules a Rollout may drive (src/modes/listener-rule/driven-tag.ts).
        Tags: [{ Key: DRIVEN_TAG_KEY, Value: DRIVEN_TAG_VALUE }],
      }));
    }
  }, 120_000);

  const rolloutOf = (i: number): Rollout => ({
    metadata: { name: `ro-${i}`, namespace: NS, uid: `lr-${i}` },
    spec: {
      strategy: {
        canary: {
          stableService: `s${i}-stable`,
          canaryService: `s${i}-canary`,
          steps: [{ setWeight: 10 }, { pause: {} }],
          trafficRouting: {
            plugins: {
              'argoproj-labs/alb': {
                listenerRule: { loadBalancerName: 'tf-shared-alb', listenerPort: 80, conditions: { host: `lr${i}.example.com` } },
                stableTargetGroup: { arn: arns[i]!.stable },
                canaryTargetGroup: { arn: arns[i]!.canary },
              },
            },
          },
        },
      },
    },
    status: { stableRS: 'old', currentPodHash: 'new', currentStepIndex: 0 },
  });

  it('cold, verified together: 1 DescribeLoadBalancers, 1 DescribeListeners, 1 DescribeRules; warm, one DescribeRules each', async () => {
    // As src/modes/listener-rule/mode.ts builds it.
    const router = createListenerRuleRouter({
      elbv2: withSharedDiscovery(elbv2, discovery),
      getTargetGroupBinding: async () => undefined,
      listTargetGroupBindings: async () => [],
      pluginName: 'argoproj-labs/alb',
    });
    proxy.resetCounts();
    const verdicts = await Promise.all(times(N, (i) => router.verifyWeight(rolloutOf(i), 10, [])));
    expect(verdicts).toEqual(times(N, () => ({ verified: RpcVerified.Verified })));
    // Before: N × 3 = 75 (each Rollout located its rule alone).
    expect(proxy.counts()).toEqual({ DescribeLoadBalancers: 1, DescribeListeners: 1, DescribeRules: 1 });

    proxy.resetCounts();
    const reports = await Promise.all(times(N, (i) => router.weightReport(rolloutOf(i), 10)));
    expect(reports.every((r) => r.verified)).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: N });

    // The next step, written together: each Rollout's first write reads its rule's opt-in tag. The asks share a
    // DescribeTags only when they arrive before it is sent (each comes right after that Rollout's own DescribeRules,
    // so how many share depends on timing: 11 calls for 25 Rollouts in one run here), never more than one per Rollout.
    proxy.resetCounts();
    await Promise.all(times(N, (i) => router.setWeight(rolloutOf(i), 20, [])));
    const { DescribeTags: tagCalls = 0, ...rest } = proxy.counts();
    expect(rest).toEqual({ DescribeRules: N, ModifyRule: N });
    expect(tagCalls).toBeGreaterThanOrEqual(Math.ceil(N / 20));
    expect(tagCalls).toBeLessThanOrEqual(N);
    // Kept: the step after that reads no tag at all.
    proxy.resetCounts();
    await Promise.all(times(N, (i) => router.setWeight(rolloutOf(i), 30, [])));
    expect(proxy.counts()).toEqual({ DescribeRules: N, ModifyRule: N });
  });
});

/** A Gateway (`shop`, address only, not Programmed) with one HTTPRoute per Rollout and the LBC's bindings. */
class MultiRouteWorld implements GatewayReader, HTTPRouteClient {
  private readonly routes = new Map<string, HTTPRoute>();
  private readonly bindings: GatewayBinding[] = [];
  private readonly gateway: GatewayObject;

  constructor(
    private readonly ns: string,
    lb: SeededLoadBalancer,
  ) {
    this.gateway = {
      metadata: { name: 'shop', namespace: ns },
      spec: { gatewayClassName: 'alb', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
      status: { addresses: [{ type: 'Hostname', value: lb.hostname }] },
    };
  }

  addRoute(i: number, stable: string, canary: string): void {
    this.routes.set(`r${i}`, {
      metadata: { name: `r${i}`, namespace: this.ns, resourceVersion: '1' },
      spec: {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop', sectionName: 'http' }],
        rules: [{ name: 'main', matches: [{ path: { type: 'PathPrefix', value: `/r${i}` } }], backendRefs: [{ name: `s${i}-stable`, port: 80, weight: 80 }, { name: `s${i}-canary`, port: 80, weight: 20 }] }],
      },
    });
    this.bindings.push({ name: `tgb-s${i}-stable`, serviceName: `s${i}-stable`, servicePort: 80, targetGroupArn: stable });
    this.bindings.push({ name: `tgb-s${i}-canary`, serviceName: `s${i}-canary`, servicePort: 80, targetGroupArn: canary });
  }

  rollout(i: number): Rollout {
    return {
      metadata: { name: `ro-${i}`, namespace: this.ns, uid: `gw-${i}` },
      spec: {
        strategy: {
          canary: {
            stableService: `s${i}-stable`,
            canaryService: `s${i}-canary`,
            trafficRouting: { plugins: { 'argoproj-labs/alb': { httpRoute: `r${i}`, ruleName: 'main' } } },
            steps: [{ setWeight: 20 }, { pause: {} }],
          },
        },
      },
      status: { stableRS: 'old', currentPodHash: 'new', currentStepIndex: 0 },
    };
  }

  async get(_ns: string, name: string): Promise<HTTPRoute> {
    return structuredClone(this.routes.get(name)!);
  }
  async patch(): Promise<HTTPRoute> {
    throw new Error('not patched here');
  }
  async getGateway(ns: string, name: string) {
    return ns === this.ns && name === 'shop' ? structuredClone(this.gateway) : undefined;
  }
  async getGatewayClass(name: string) {
    return name === 'alb' ? { spec: { controllerName: 'gateway.k8s.aws/alb' } } : undefined;
  }
  async listGatewayBindings(ns: string, gwNs: string, gw: string) {
    return ns === this.ns && gwNs === this.ns && gw === 'shop' ? this.bindings : [];
  }
}
