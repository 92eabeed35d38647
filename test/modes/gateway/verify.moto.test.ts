// Gateway mode's weight verification against moto (through the counting proxy): an ALB seeded the way the LBC builds
// it from a Gateway and an HTTPRoute (docs/gateway-api-facts.md §2-4: one rule per route rule match, conditions from
// the matches, one target group per route and Service, no tag naming the route on the rules), the Kubernetes side
// (route, Gateway, class, the LBC's TargetGroupBindings) in memory. What it proves: the rule is found by its
// conditions, weights are compared per Service, a warm check is one DescribeRules, a moved or repurposed rule ARN is
// noticed, and the configurations the LBC cannot build an ALB for are refused with a reason.
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  type ElasticLoadBalancingV2Client,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createElbv2, type Elbv2 } from '../../../src/aws/elbv2.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { desiredWeights } from '../../../src/core/weights.js';
import { gatewayAlbTargets } from '../../../src/modes/gateway/alb-targets.js';
import { parseGatewayConfig } from '../../../src/modes/gateway/config.js';
import { createGatewayRouter, gatewayWeightStep } from '../../../src/modes/gateway/router.js';
import { createGatewayVerifier } from '../../../src/modes/gateway/verify/verifier.js';
import { RpcVerified } from '../../../src/plugin/router.js';
import type { RolloutEvent } from '../../../src/plugin/hooks.js';
import { createNetwork, type Network } from '../../support/lbc-seed.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../../support/elbv2-proxy.js';
import { elbv2Client, startMoto, type Moto } from '../../support/moto.js';
import { forward, header, NS, path, seedGatewayAlb, World, type Seeded } from './moto-fixtures.js';

const PLUGIN = 'argoproj-labs/alb';

let moto: Moto;
let proxy: Elbv2Proxy;
let direct: ElasticLoadBalancingV2Client;
let elbv2: Elbv2;

function rollout(weight = 20): Rollout {
  return {
    metadata: { name: 'shop', namespace: NS, uid: 'uid-shop' },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { [PLUGIN]: { httpRoute: 'shop', ruleName: 'main' } } },
          steps: [{ setWeight: weight }, { pause: {} }],
        },
      },
    },
    status: { stableRS: 'old', currentPodHash: 'new', currentStepIndex: 0 },
  };
}

function verifier(world: World, events: RolloutEvent[] = []) {
  return createGatewayVerifier({ enabled: true, elbv2, routes: world, gateways: world, events: { emit: (_r, e) => events.push(e) } });
}

async function report(v: ReturnType<typeof verifier>, weight: number) {
  const config = parseGatewayConfig(rollout(weight), PLUGIN);
  return v.report(config, desiredWeights({ desiredWeight: weight, additionalDestinations: [], maxWeight: 100, services: config.services }));
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

let s: Seeded;
let world: World;
beforeEach(async () => {
  await moto.reset();
  s = await seedGatewayAlb(direct, moto.endpoint);
  world = new World(s);
  elbv2 = createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 });
  proxy.resetCounts();
});

describe('Gateway mode VerifyWeight against moto', () => {
  it('finds the route rule\'s ALB rule by its conditions, verifies 80/20 per Service; warm, one DescribeRules(RuleArns)', async () => {
    const v = verifier(world);
    const cold = await report(v, 20);
    expect(cold).toMatchObject({ verified: true, reasons: [] });
    expect(cold.rules).toEqual([
      {
        route: `${NS}/shop`,
        routeKind: 'HTTPRoute',
        gateway: `${NS}/shop`,
        rule: 'rule "main"',
        ruleArn: s.main,
        weights: { 'shop-stable': 80, 'shop-canary': 20 },
        // The Services' target groups as the bindings name them (what status.alb and the analysis are made of).
        targetGroups: { 'shop-stable': s.tg['shop-stable'], 'shop-canary': s.tg['shop-canary'] },
      },
    ]);
    expect(proxy.counts()).toEqual({ DescribeListeners: 1, DescribeRules: 1 });
    proxy.resetCounts();
    const warm = await report(v, 20);
    expect(warm.verified).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
    expect(warm.elbv2Calls).toBe(1);
  });

  it('"not yet" while the ALB carries other weights, with the Service and both weights in the reason', async () => {
    const v = verifier(world);
    const r = await report(v, 50);
    expect(r.verified).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.reasons).toEqual([
      `load balancer of Gateway ${NS}/shop, HTTPRoute ${NS}/shop rule "main": Service shop-canary has weight 20, expected 50`,
      `load balancer of Gateway ${NS}/shop, HTTPRoute ${NS}/shop rule "main": Service shop-stable has weight 80, expected 50`,
    ]);
    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Actions: forward({ 'shop-stable': 50, 'shop-canary': 50 }, s.tg) }));
    proxy.resetCounts();
    expect((await report(v, 50)).verified).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('a zero weight is a target group present at 0; a canary missing from the forward at a non-zero weight is "not yet"', async () => {
    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Actions: forward({ 'shop-stable': 100, 'shop-canary': 0 }, s.tg) }));
    const v = verifier(world);
    expect((await report(v, 0)).verified).toBe(true);
    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Actions: forward({ 'shop-stable': 100 }, s.tg) }));
    expect((await report(v, 0)).verified).toBe(true);
    expect((await report(v, 10)).reasons).toContain(`load balancer of Gateway ${NS}/shop, HTTPRoute ${NS}/shop rule "main": Service shop-canary is not in the forward yet (weight 10 expected)`);
  });

  it('a rule ARN that came to mean another rule (the LBC\'s combined write) is a miss: one cold rediscovery finds the catch-all', async () => {
    const v = verifier(world);
    expect((await report(v, 20)).verified).toBe(true);
    // The catch-all's ARN now carries the header rule; the catch-all is created anew.
    await direct.send(new DeleteRuleCommand({ RuleArn: s.beta }));
    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Conditions: [path('/*'), header('X-Beta', 'yes')], Actions: forward({ 'shop-canary': 1 }, s.tg) }));
    const fresh = (await direct.send(new CreateRuleCommand({ ListenerArn: s.listener, Priority: 4, Conditions: [path('/*')], Actions: forward({ 'shop-stable': 80, 'shop-canary': 20 }, s.tg) }))).Rules![0]!.RuleArn!;
    proxy.resetCounts();
    const r = await report(v, 20);
    expect(r.verified).toBe(true);
    expect(r.rules[0]!.ruleArn).toBe(fresh);
    expect(proxy.counts()).toEqual({ DescribeRules: 2, DescribeListeners: 1 });
  });

  it("the Gateway listener's hostname is the rule's host-header when the route names none (the LBC's hostname check)", async () => {
    world.gateway.spec.listeners = [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shop.example.com' }];
    const v = verifier(world);
    expect((await report(v, 20)).reasons).toEqual([`load balancer of Gateway ${NS}/shop: no ALB rule for HTTPRoute ${NS}/shop rule "main" (match 0, listener port 80) yet`]);
    await direct.send(
      new ModifyRuleCommand({ RuleArn: s.main, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }, path('/*')] }),
    );
    expect((await report(v, 20)).verified).toBe(true);
  });

  it('a parentRef without sectionName on a Gateway with two listeners: each listener\'s rule, with its own hostnames, must carry the weights (issue #21)', async () => {
    // http:80 without a hostname (the seeded rules), web:8080 with shop.example.com: the LBC builds the route's rules on both.
    world.gateway.spec.listeners = [
      { name: 'http', port: 80, protocol: 'HTTP' },
      { name: 'web', port: 8080, protocol: 'HTTP', hostname: 'shop.example.com' },
    ];
    world.route.spec.parentRefs = [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop' }];
    world.route.spec.rules = [world.route.spec.rules![0]!];
    const second = (
      await direct.send(new CreateListenerCommand({ LoadBalancerArn: s.lb.arn, Protocol: 'HTTP', Port: 8080, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }))
    ).Listeners![0]!.ListenerArn!;
    const v = verifier(world);
    // Only port 80's rule exists: not verified, naming the listener whose rule is missing.
    expect((await report(v, 20)).reasons).toEqual([`load balancer of Gateway ${NS}/shop: no ALB rule for HTTPRoute ${NS}/shop rule "main" (match 1, listener port 8080) yet`]);
    const hostRule = (
      await direct.send(
        new CreateRuleCommand({
          ListenerArn: second,
          Priority: 1,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }, path('/*')],
          Actions: forward({ 'shop-stable': 100, 'shop-canary': 0 }, s.tg),
        }),
      )
    ).Rules![0]!.RuleArn!;
    // Port 8080's rule still carries the old weights: not verified, though port 80's does.
    const stale = await report(v, 20);
    expect(stale.verified).toBe(false);
    expect(stale.reasons.join('\n')).toMatch(/shop-canary has weight 0, expected 20/);
    expect(stale.rules.map((r) => r.ruleArn).sort()).toEqual([s.main, hostRule].sort());
    await direct.send(new ModifyRuleCommand({ RuleArn: hostRule, Actions: forward({ 'shop-stable': 80, 'shop-canary': 20 }, s.tg) }));
    expect((await report(v, 20)).verified).toBe(true);
    // And the other way round: port 8080 carries the weights, port 80 fell back. Not verified (before, only one
    // listener's rule was looked at, and this answered verified).
    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Actions: forward({ 'shop-stable': 100, 'shop-canary': 0 }, s.tg) }));
    const back = await report(v, 20);
    expect(back.verified).toBe(false);
    expect(back.reasons.join('\n')).toMatch(/shop-canary has weight 0, expected 20/);
  });

  it('a route the LBC refuses (ResolvedRefs or Accepted False in its status) is an error naming the condition, not "not yet" forever (issue #21)', async () => {
    const v = verifier(world);
    world.route.status = {
      parents: [
        {
          parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shop', sectionName: 'http' },
          controllerName: 'gateway.k8s.aws/alb',
          conditions: [
            { type: 'Accepted', status: 'True', reason: 'Accepted' },
            { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted', message: 'backendRef team/shop-canary not permitted by any ReferenceGrant' },
          ],
        },
      ],
    };
    const r = await report(v, 20);
    expect(r.verified).toBe(false);
    expect(r.transient).toBe(false);
    expect(r.error).toBe(
      `HTTPRoute ${NS}/shop: the AWS Load Balancer Controller reports ResolvedRefs False for Gateway ${NS}/shop (RefNotPermitted: backendRef team/shop-canary not permitted by any ReferenceGrant); its ALB will not carry the route's weights until that is fixed`,
    );
    // Another controller's status says nothing about the ALB.
    (world.route.status as { parents: Array<{ controllerName: string }> }).parents[0]!.controllerName = 'example.com/other';
    expect((await report(v, 20)).verified).toBe(true);
  });

  it('albTargets (issue #19): the Gateway\'s load balancer and the Services\' target groups, as status.alb shows them', async () => {
    const v = verifier(world);
    expect(await gatewayAlbTargets(PLUGIN, (c, d, sig) => v.report(c, d, sig), rollout(20), AbortSignal.timeout(10_000))).toEqual([
      { loadBalancerArn: s.lb.arn, canaryTargetGroupArn: s.tg['shop-canary'], stableTargetGroupArn: s.tg['shop-stable'] },
    ]);
  });

  it('a deleted rule (RuleNotFound) is a miss too; no rule for the route rule yet is "not yet"', async () => {
    const v = verifier(world);
    expect((await report(v, 20)).verified).toBe(true);
    await direct.send(new DeleteRuleCommand({ RuleArn: s.main }));
    const r = await report(v, 20);
    expect(r).toMatchObject({ verified: false, reasons: [`load balancer of Gateway ${NS}/shop: no ALB rule for HTTPRoute ${NS}/shop rule "main" (match 0, listener port 80) yet`] });
    expect(r.error).toBeUndefined();
  });

  it('without the ARN in Programmed, the Gateway\'s address finds the load balancer (one DescribeLoadBalancers scan)', async () => {
    world.gateway.status!.conditions = [{ type: 'Programmed', status: 'Unknown', message: 'Pending' }];
    const r = await report(verifier(world), 20);
    expect(r.verified).toBe(true);
    expect(proxy.count('DescribeLoadBalancers')).toBe(1);
    world.gateway.status = {};
    expect((await report(verifier(world), 20)).reasons).toEqual([`no load balancer found for Gateway ${NS}/shop yet (not Programmed, no address)`]);
  });

  it('a Service backing two routes of the Gateway: the target group\'s resource tag picks this route\'s, read once', async () => {
    await direct.send(new AddTagsCommand({ ResourceArns: [s.tg['shop-stable']!], Tags: [{ Key: 'gateway.k8s.aws.alb/resource', Value: `${NS}/shop:${NS}-shop:HTTPRoute-${NS}-shop-stable:8080` }] }));
    await direct.send(new AddTagsCommand({ ResourceArns: [s.tg['other-stable']!], Tags: [{ Key: 'gateway.k8s.aws.alb/resource', Value: `${NS}/shop:${NS}-other:HTTPRoute-${NS}-shop-stable:8080` }] }));
    world.bindings.push({ name: 'tgb-other', serviceName: 'shop-stable', servicePort: 80, targetGroupArn: s.tg['other-stable']! });
    const v = verifier(world);
    expect((await report(v, 20)).verified).toBe(true);
    expect(proxy.count('DescribeTags')).toBe(1);
    proxy.resetCounts();
    expect((await report(v, 20)).verified).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it.each([
    ['a Gateway in dry-run', (w: World) => (w.gateway.metadata.annotations = { 'gateway.k8s.aws/dry-run': 'true' }),
      `Gateway ${NS}/shop is annotated gateway.k8s.aws/dry-run: "true" (lbc-migrate's default): the LBC builds no ALB for it; remove the annotation`],
    ['a class of another controller', (w: World) => (w.controller = 'gateway.k8s.aws/nlb'),
      `GatewayClass alb of Gateway ${NS}/shop has controllerName gateway.k8s.aws/nlb; only gateway.k8s.aws/alb (the AWS Load Balancer Controller's ALB) builds an ALB this plugin can verify`],
    ['a route without the canary', (w: World) => (w.route.spec.rules![0]!.backendRefs = [{ name: 'shop-stable', port: 80 }]),
      `HTTPRoute ${NS}/shop rule "main" (spec.rules[0]) has no backendRef for Service "shop-canary"; SetWeight only changes weights, add {name: shop-canary, port: <Service port>, weight: 0} to its backendRefs`],
  ])('%s is a configuration error, answered with Err and no AWS call', async (_label, change, text) => {
    change(world);
    const r = await report(verifier(world), 20);
    expect(r).toMatchObject({ verified: false, error: text, transient: false });
    expect(proxy.total()).toBe(0);
    const res = await verifier(world).verifyWeight(gatewayWeightStep(rollout(), parseGatewayConfig(rollout(), PLUGIN), 20, []), parseGatewayConfig(rollout(), PLUGIN), desiredWeights({ desiredWeight: 20, additionalDestinations: [], maxWeight: 100, services: { stable: 'shop-stable', canary: 'shop-canary' } }));
    expect(res).toEqual({ verified: RpcVerified.NotVerified, err: `weight verification failed: ${text}` });
  });

  it('through the router and the gate: Verified once, remembered (no AWS call), an Event; a write drops the verdict', async () => {
    const events: RolloutEvent[] = [];
    const v = verifier(world, events);
    const router = createGatewayRouter({ routes: world, pluginName: PLUGIN, verifier: v });
    expect(await router.verifyWeight(rollout(), 20, [])).toEqual({ verified: RpcVerified.Verified });
    expect(events).toEqual([{ type: 'Normal', reason: 'ALBPluginWeightVerified', message: "Weights verified on the Gateway's load balancer: canary 20, stable 80" }]);
    proxy.resetCounts();
    expect(await router.verifyWeight(rollout(), 20, [])).toEqual({ verified: RpcVerified.Verified });
    expect(proxy.total()).toBe(0);
    v.invalidate(rollout());
    expect(await router.verifyWeight(rollout(), 20, [])).toEqual({ verified: RpcVerified.Verified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('a header rule is added only once the catch-all\'s ALB rule carries the route\'s current weights (retryable error before)', async () => {
    const v = verifier(world);
    const router = createGatewayRouter({ routes: world, pluginName: PLUGIN, verifier: v });
    const r = rollout();
    r.spec.strategy.canary!.trafficRouting!.managedRoutes = [{ name: 'gamma' }];
    const gamma = { name: 'gamma', match: [{ headerName: 'X-Gamma', headerValue: { exact: 'on' } }] };
    // The route was just set to 50/50; the LBC has not carried it to the ALB yet (80/20 there).
    world.route.spec.rules![0]!.backendRefs = [{ name: 'shop-stable', port: 80, weight: 50 }, { name: 'shop-canary', port: 80, weight: 50 }];
    await expect(router.setHeaderRoute(r, gamma)).rejects.toThrow(
      `HTTPRoute ${NS}/shop: the header route is added once the Gateway's ALB carries the route's current weights (load balancer of Gateway ${NS}/shop, HTTPRoute ${NS}/shop rule "main": Service shop-canary has weight 20, expected 50); adding it in the same LBC reconcile as a weight change would re-pair the catch-all's ALB rule. The next reconcile adds it`,
    );
    expect(world.patches).toBe(0);
    await direct.send(new ModifyRuleCommand({ RuleArn: s.main, Actions: forward({ 'shop-stable': 50, 'shop-canary': 50 }, s.tg) }));
    await router.setHeaderRoute(r, gamma);
    expect(world.patches).toBe(1);
    expect(world.route.spec.rules!.map((x) => x.name)).toEqual(['main', 'beta', 'api', 'argo-shop-gamma']);
    // Already there: no check, no write. Removal never waits.
    proxy.resetCounts();
    await router.setHeaderRoute(r, gamma);
    await router.setHeaderRoute(r, { name: 'gamma' });
    expect(proxy.total()).toBe(0);
    expect(world.route.spec.rules!.map((x) => x.name)).toEqual(['main', 'beta', 'api']);
  });
});

describe('Gateway mode VerifyWeight on a GRPCRoute against moto', () => {
  const HOST = 'grpc.example.com';
  let net: Network;
  beforeEach(async () => {
    // Seeded again on a network this block keeps: the gRPC target groups go in its VPC, the listener takes its certificate.
    await moto.reset();
    net = await createNetwork(moto.endpoint);
    s = await seedGatewayAlb(direct, moto.endpoint, { net });
    world = new World(s);
    proxy.resetCounts();
  });
  /** What the LBC adds for GRPCRoute `shop` on an HTTPS listener: gRPC target groups, the method match as the path. */
  async function seedGrpc(): Promise<{ main: string; tg: Record<string, string> }> {
    const cert = net.certificateArn;
    const l = await direct.send(
      new CreateListenerCommand({
        LoadBalancerArn: s.lb.arn,
        Protocol: 'HTTPS',
        Port: 443,
        Certificates: [{ CertificateArn: cert }],
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
      }),
    );
    const tg: Record<string, string> = {};
    for (const svc of ['shop-stable', 'shop-canary']) {
      const out = await direct.send(
        new CreateTargetGroupCommand({ Name: `k8s-apps-grpc-${svc}`, Protocol: 'HTTP', ProtocolVersion: 'GRPC', Port: 8080, VpcId: net.vpcId, TargetType: 'ip' }),
      );
      tg[svc] = out.TargetGroups![0]!.TargetGroupArn!;
      // The Service now has two target groups on this Gateway (the HTTPRoute's and the GRPCRoute's): the tag picks.
      await direct.send(new AddTagsCommand({ ResourceArns: [tg[svc]!], Tags: [{ Key: 'gateway.k8s.aws.alb/resource', Value: `${NS}/shop:${NS}-shop:GRPCRoute-${NS}-${svc}:8080` }] }));
      await direct.send(new AddTagsCommand({ ResourceArns: [s.tg[svc]!], Tags: [{ Key: 'gateway.k8s.aws.alb/resource', Value: `${NS}/shop:${NS}-shop:HTTPRoute-${NS}-${svc}:8080` }] }));
      world.bindings.push({ name: `tgb-grpc-${svc}`, serviceName: svc, servicePort: 80, targetGroupArn: tg[svc]! });
    }
    const host = { Field: 'host-header', HostHeaderConfig: { Values: [HOST] } };
    const rule = async (Priority: number, Conditions: RuleCondition[], weights: Record<string, number>) =>
      (await direct.send(new CreateRuleCommand({ ListenerArn: l.Listeners![0]!.ListenerArn!, Priority, Conditions, Actions: forward(weights, tg) }))).Rules![0]!.RuleArn!;
    // A header rule of the same method ahead of the catch-all, as the plugin's header route makes it.
    await rule(1, [host, path('/helloworld.Greeter/*'), header('x-beta', 'yes')], { 'shop-canary': 1 });
    const main = await rule(2, [host, path('/helloworld.Greeter/*')], { 'shop-stable': 70, 'shop-canary': 30 });
    world.gateway.spec.listeners!.push({ name: 'https', port: 443, protocol: 'HTTPS', hostname: HOST });
    world.route = {
      kind: 'GRPCRoute',
      metadata: { name: 'shop', namespace: NS, resourceVersion: '1' },
      spec: {
        parentRefs: [{ name: 'shop', sectionName: 'https' }],
        rules: [
          { name: 'main', matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter' } }], backendRefs: [{ name: 'shop-stable', port: 80, weight: 70 }, { name: 'shop-canary', port: 80, weight: 30 }] },
        ],
      },
    };
    return { main, tg };
  }

  const grpcRollout = (): Rollout => {
    const r = rollout(30);
    r.spec.strategy.canary!.trafficRouting = { plugins: { [PLUGIN]: { grpcRoute: 'shop' } } };
    return r;
  };
  const grpcReport = (v: ReturnType<typeof verifier>, weight: number) => {
    const config = parseGatewayConfig(grpcRollout(), PLUGIN);
    return v.report(config, desiredWeights({ desiredWeight: weight, additionalDestinations: [], maxWeight: 100, services: config.services }));
  };

  it('finds the GRPCRoute rule\'s ALB rule on the HTTPS listener by its path /<service>/* and host, its gRPC target groups by the tag; warm, one DescribeRules', async () => {
    const g = await seedGrpc();
    const v = verifier(world);
    const cold = await grpcReport(v, 30);
    expect(cold).toMatchObject({ verified: true, reasons: [] });
    expect(cold.rules).toEqual([
      { route: `${NS}/shop`, routeKind: 'GRPCRoute', gateway: `${NS}/shop`, rule: 'rule "main"', ruleArn: g.main, weights: { 'shop-stable': 70, 'shop-canary': 30 }, targetGroups: { 'shop-stable': g.tg['shop-stable'], 'shop-canary': g.tg['shop-canary'] } },
    ]);
    proxy.resetCounts();
    expect((await grpcReport(v, 30)).verified).toBe(true);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
    // Another weight: "not yet", naming the GRPCRoute.
    expect((await grpcReport(v, 50)).reasons).toContain(`load balancer of Gateway ${NS}/shop, GRPCRoute ${NS}/shop rule "main": Service shop-canary has weight 30, expected 50`);
  });

  it('a GRPCRoute attached to the HTTP listener is refused with the reason (the LBC attaches GRPCRoutes to HTTPS listeners only)', async () => {
    await seedGrpc();
    world.route.spec.parentRefs = [{ name: 'shop', sectionName: 'http' }];
    const r = await grpcReport(verifier(world), 30);
    expect(r.verified).toBe(false);
    expect(r.error).toBe(
      'GRPCRoute apps/shop names listener "http" of Gateway apps/shop (protocol HTTP), which does not take GRPCRoutes; the AWS Load Balancer ' +
        'Controller attaches GRPCRoutes to HTTPS listeners (or to listeners whose allowedRoutes.kinds list GRPCRoute) and builds no ALB rule for it here: ' +
        'attach the route to an HTTPS listener with a certificate',
    );
  });

  it('without sectionName, only the listeners that take GRPCRoutes are looked at (not the HTTP one); an HTTPS listener listing only HTTPRoute takes none', async () => {
    const g = await seedGrpc();
    world.route.spec.parentRefs = [{ name: 'shop' }];
    const v = verifier(world);
    const r = await grpcReport(v, 30);
    expect(r).toMatchObject({ verified: true, reasons: [] });
    expect(r.rules.map((x) => x.ruleArn)).toEqual([g.main]);
    world.gateway.spec.listeners![1]!.allowedRoutes = { kinds: [{ kind: 'HTTPRoute' }] };
    expect((await grpcReport(verifier(world), 30)).error).toBe(
      'Gateway apps/shop has no listener taking GRPCRoutes for parentRef {"name":"shop"} of GRPCRoute apps/shop; the AWS Load Balancer Controller attaches ' +
        'GRPCRoutes to HTTPS listeners (or to listeners whose allowedRoutes.kinds list GRPCRoute)',
    );
  });
});
