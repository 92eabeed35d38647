// The report behind the HTTP API, built from fakes of the verifier's report functions (their real shapes),
// served through the real fastify app.
import { describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import { createMetrics } from '../../src/metrics.js';
import type { Rollout } from '../../src/core/rollout.js';
import type { WeightRequest } from '../../src/modes/ingress/view.js';
import type { TargetsReport } from '../../src/verify/target-health.js';
import type { WeightReport } from '../../src/modes/ingress/verify/weight-report.js';
import type { GatewayWeightReport } from '../../src/modes/gateway/verify/check.js';
import type { DesiredWeight } from '../../src/core/weights.js';
import { blueGreenRollout, canaryRollout, PLUGIN, reportSourceOver, type ReportChecks } from './fixtures.js';

const LB = 'k8s-shop-app-0123456789';
const RULE = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/${LB}/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const tgArn = (svc: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-${svc}/aaaaaaaaaaaaaaaa`;

function weightReport(req: WeightRequest, actualCanary: number): WeightReport {
  const verified = actualCanary === req.desiredWeight;
  const tuple = (role: 'canary' | 'stable', service: string, expected: number, actual: number) => ({
    role,
    service,
    resourceId: `shop/app-${service}:80`,
    targetGroupArn: tgArn(service),
    expected,
    actual,
    ok: expected === actual,
  });
  return {
    rollout: 'shop/web',
    verified,
    desiredWeight: req.desiredWeight,
    maxWeight: 100,
    moment: 'requested',
    reasons: verified ? [] : [`load balancer ${LB}: canary weight ${req.desiredWeight} not yet set (current: ${actualCanary})`],
    ingresses: [
      {
        ingress: 'app',
        verified,
        reasons: [],
        expected: [
          { role: 'canary', service: 'app-canary', resourceId: 'shop/app-app-canary:80', weight: req.desiredWeight },
          { role: 'stable', service: 'app-stable', resourceId: 'shop/app-app-stable:80', weight: 100 - req.desiredWeight },
        ],
        loadBalancers: [
          {
            hostname: `${LB}-1234567890.eu-west-1.elb.amazonaws.com`,
            name: LB,
            arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${LB}/50dc6c495c0c9188`,
            verified,
            reasons: [],
            rules: [
              {
                ruleArn: RULE,
                priority: '3',
                verified,
                targetGroups: [
                  tuple('canary', 'app-canary', req.desiredWeight, actualCanary),
                  tuple('stable', 'app-stable', 100 - req.desiredWeight, 100 - actualCanary),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

function targetsReport(namespace: string, service: string, healthy: number): TargetsReport {
  const verified = healthy === 2;
  return {
    namespace,
    service,
    mode: 'healthy',
    verified,
    reasons: verified ? [] : [`target group k8s-shop-${service}: ${healthy}/2 targets healthy`],
    targetGroups: [
      {
        targetGroupBinding: `k8s-shop-${service}`,
        targetGroupArn: tgArn(service),
        targetType: 'ip',
        expected: 2,
        registered: 2,
        healthy,
        verified,
        missing: verified ? [] : ['10.0.1.7:8080'],
        states: { healthy, initial: 2 - healthy },
      },
    ],
  };
}

function withWeight(r: Rollout, weight: number): Rollout {
  return { ...r, status: { ...r.status, canary: { weights: { canary: { weight, serviceName: 'app-canary' }, stable: { weight: 100 - weight, serviceName: 'app-stable' } } } } };
}

function setup(rollouts: Rollout[], opts: { actualCanary?: number; healthy?: Record<string, number>; gateway?: (desired: DesiredWeight[]) => GatewayWeightReport } = {}) {
  const asked: { weights: number[]; targets: string[]; hosts: string[]; gateway?: Array<{ routes: string[]; desired: DesiredWeight[] }> } = { weights: [], targets: [], hosts: [] };
  const checks: ReportChecks = {
    weights: {
      async report(req) {
        asked.weights.push(req.desiredWeight);
        return weightReport(req, opts.actualCanary ?? req.desiredWeight);
      },
    },
    targets: {
      async verifyTargets(ns, svc) {
        asked.targets.push(svc);
        return targetsReport(ns, svc, opts.healthy?.[svc] ?? 2);
      },
    },
    async ingressHostnames(_ns, name) {
      asked.hosts.push(name);
      return name === 'pending' ? [] : [`${LB}-1234567890.eu-west-1.elb.amazonaws.com`];
    },
    ...(opts.gateway
      ? {
          gateway: {
            async report(config, desired) {
              (asked.gateway ??= []).push({ routes: config.routes.map((r) => `${r.namespace}/${r.name}`), desired });
              return opts.gateway!(desired);
            },
          },
        }
      : {}),
  };
  const byKey = new Map(rollouts.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r]));
  const source = reportSourceOver({
    ...checks,
    pluginName: PLUGIN,
    getRollout: async (ns, name) => byKey.get(`${ns}/${name}`),
    now: () => new Date('2026-11-21T14:30:00Z'),
  });
  const app = buildServer({ registry: createMetrics().registry, readiness: [], reports: source, pluginName: PLUGIN });
  return { app, asked };
}

describe('canary report', () => {
  it('is verified when the rule carries the weights and the targets are healthy', async () => {
    const { app, asked } = setup([withWeight(canaryRollout('web'), 20)]);
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      rollout: { namespace: 'shop', name: 'web', strategy: 'canary', desiredWeight: 20 },
      verified: true,
      reasons: [],
      checkedAt: '2026-11-21T14:30:00.000Z',
      ingresses: [
        {
          name: 'app',
          loadBalancer: {
            hostname: `${LB}-1234567890.eu-west-1.elb.amazonaws.com`,
            arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${LB}/50dc6c495c0c9188`,
            name: LB,
          },
          rules: [
            {
              arn: RULE,
              listenerArn: null,
              priority: '3',
              expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
              actualWeights: { 'app-canary': 20, 'app-stable': 80 },
              verified: true,
            },
          ],
          expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
          actualWeights: { 'app-canary': 20, 'app-stable': 80 },
          verified: true,
          reasons: [],
        },
      ],
      targetGroups: ['app-stable', 'app-canary'].map((svc) => ({
        service: svc,
        targetGroupBinding: `k8s-shop-${svc}`,
        arn: tgArn(svc),
        expectedTargets: 2,
        registeredTargets: 2,
        healthyTargets: 2,
        verified: true,
        reasons: [],
      })),
    });
    expect(asked).toEqual({ weights: [20], targets: ['app-stable', 'app-canary'], hosts: [] });
  });

  it.each<{ name: string; actualCanary: number; healthy: Record<string, number>; reasons: string[] }>([
    { name: 'weight not yet applied', actualCanary: 0, healthy: {}, reasons: [`load balancer ${LB}: canary weight 20 not yet set (current: 0)`] },
    {
      name: 'a canary target not healthy',
      actualCanary: 20,
      healthy: { 'app-canary': 1 },
      reasons: ['Service app-canary: target group k8s-shop-app-canary: 1/2 targets healthy'],
    },
  ])('is not verified when $name', async ({ actualCanary, healthy, reasons }) => {
    const { app } = setup([withWeight(canaryRollout('web'), 20)], { actualCanary, healthy });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(res.json().verified).toBe(false);
    expect(res.json().reasons).toEqual(reasons);
  });

  it('checks only the stable targets before any weight was set', async () => {
    const { app, asked } = setup([canaryRollout('web')]);
    const res = await app.inject('/api/v1/rollouts/shop/web');
    await app.close();
    expect(res.json().rollout.desiredWeight).toBe(0);
    expect(asked).toEqual({ weights: [0], targets: ['app-stable'], hosts: [] });
  });
});

describe('blue-green report', () => {
  it('checks active and preview targets and the Ingress hostname', async () => {
    const { app, asked } = setup([blueGreenRollout('bg')], { healthy: { 'app-preview': 0 } });
    const res = await app.inject('/api/v1/rollouts/shop/bg/verify?ingress=app&ingress=pending');
    await app.close();
    const body = res.json();
    expect(res.statusCode).toBe(200);
    expect(body.rollout).toEqual({ namespace: 'shop', name: 'bg', strategy: 'blueGreen', desiredWeight: null });
    expect(body.verified).toBe(false);
    expect(body.reasons).toEqual([
      'Ingress shop/pending has no load-balancer hostname in its status yet',
      'Service app-preview: target group k8s-shop-app-preview: 0/2 targets healthy',
    ]);
    expect(body.targetGroups.map((t: { service: string; healthyTargets: number }) => [t.service, t.healthyTargets])).toEqual([
      ['app-active', 2],
      ['app-preview', 0],
    ]);
    expect(asked).toEqual({ weights: [], targets: ['app-active', 'app-preview'], hosts: ['app', 'pending'] });
  });
});

describe('report cache', () => {
  it('serves the plain route from a recent report, /verify always afresh, and never across a Rollout change', async () => {
    let clock = Date.parse('2026-11-21T14:30:00Z');
    const calls: string[] = [];
    let current = withWeight(canaryRollout('web'), 20);
    current.metadata.resourceVersion = '7';
    const source = reportSourceOver({
      pluginName: PLUGIN,
      getRollout: async () => current,
      weights: {
        async report(req) {
          calls.push(`weights ${req.desiredWeight}`);
          return weightReport(req, req.desiredWeight);
        },
      },
      targets: { verifyTargets: async (ns, svc) => targetsReport(ns, svc, 2) },
      ingressHostnames: async () => [],
      now: () => new Date(clock),
      cacheTtlMs: 10_000,
    });
    const app = buildServer({ registry: createMetrics().registry, readiness: [], reports: source, pluginName: PLUGIN });
    const get = async (path: string) => (await app.inject(path)).json().checkedAt as string;
    const first = await get('/api/v1/rollouts/shop/web');
    clock += 5_000;
    expect(await get('/api/v1/rollouts/shop/web')).toBe(first); // cached
    expect(await get('/api/v1/rollouts/shop/web/verify')).not.toBe(first); // fresh
    current = { ...withWeight(canaryRollout('web'), 50), metadata: { ...current.metadata, resourceVersion: '8' } };
    await get('/api/v1/rollouts/shop/web'); // Rollout changed
    clock += 20_000;
    await get('/api/v1/rollouts/shop/web'); // expired
    await app.close();
    expect(calls).toEqual(['weights 20', 'weights 20', 'weights 50', 'weights 50']);
  });
});

describe('checks per Rollout through the API are bounded (issue #20)', () => {
  it('a /verify within 2 s of the last check is answered by it, and concurrent requests share one check', async () => {
    let clock = Date.parse('2026-11-21T14:30:00Z');
    let calls = 0;
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const current = { ...withWeight(canaryRollout('web'), 20), metadata: { ...canaryRollout('web').metadata, resourceVersion: '7' } };
    const source = reportSourceOver({
      pluginName: PLUGIN,
      getRollout: async () => current,
      weights: {
        async report(req) {
          calls++;
          await gate;
          return weightReport(req, req.desiredWeight);
        },
      },
      targets: { verifyTargets: async (ns, svc) => targetsReport(ns, svc, 2) },
      ingressHostnames: async () => [],
      now: () => new Date(clock),
    });
    const app = buildServer({ registry: createMetrics().registry, readiness: [], reports: source, pluginName: PLUGIN });
    const verify = () => app.inject('/api/v1/rollouts/shop/web/verify');
    // Ten AnalysisRuns (or one abusive pod) at once: one check.
    const burst = Array.from({ length: 10 }, verify);
    await new Promise((r) => setTimeout(r, 20));
    release();
    const answers = await Promise.all(burst);
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(calls).toBe(1);
    clock += 1_000;
    await verify();
    expect(calls).toBe(1);
    clock += 1_500;
    gate = Promise.resolve();
    await verify();
    expect(calls).toBe(2);
    await app.close();
  });
});

describe('Gateway mode report', () => {
  const GW_RULE = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/k8s-shop-gw-0123456789/50dc6c495c0c9188/f2f7dc8efc522ab2/1111111111111111`;
  function gatewayRollout(weight: number): Rollout {
    const r = withWeight(canaryRollout('web'), weight);
    r.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: { httpRoutes: ['app', { name: 'edge', namespace: 'ingress' }] } };
    return r;
  }
  /** The verifier's report with the ALB rule of the `app` route carrying `actualCanary`. */
  const gwReport = (actualCanary: number) => (desired: DesiredWeight[]): GatewayWeightReport => {
    const want = desired.find((d) => d.role === 'canary')!.weight;
    const verified = actualCanary === want;
    return {
      verified,
      reasons: verified ? [] : [`load balancer of Gateway shop/gw, HTTPRoute shop/app rule "main": Service app-canary has weight ${actualCanary}, expected ${want}`],
      rules: [
        { route: 'shop/app', routeKind: 'HTTPRoute', gateway: 'shop/gw', rule: 'rule "main"', ruleArn: GW_RULE, weights: { 'app-stable': 100 - actualCanary, 'app-canary': actualCanary } },
      ],
      elbv2Calls: 1,
    };
  };

  it('is verified when the ALB rules carry the weights and the targets are healthy', async () => {
    const { app, asked } = setup([gatewayRollout(20)], { gateway: gwReport(20) });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      rollout: { namespace: 'shop', name: 'web', strategy: 'canary', desiredWeight: 20 },
      verified: true,
      reasons: [],
      checkedAt: '2026-11-21T14:30:00.000Z',
      ingresses: [],
      gateway: {
        routes: ['shop/app', 'ingress/edge'],
        expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
        rules: [
          {
            route: 'shop/app',
            routeKind: 'HTTPRoute',
            gateway: 'shop/gw',
            rule: 'rule "main"',
            ruleArn: GW_RULE,
            expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
            actualWeights: { 'app-canary': 20, 'app-stable': 80 },
            verified: true,
          },
        ],
        verified: true,
        reasons: [],
      },
      targetGroups: ['app-stable', 'app-canary'].map((svc) => ({
        service: svc,
        targetGroupBinding: `k8s-shop-${svc}`,
        arn: tgArn(svc),
        expectedTargets: 2,
        registeredTargets: 2,
        healthyTargets: 2,
        verified: true,
        reasons: [],
      })),
    });
    // The Ingress verifier is never asked; the Gateway verifier gets the core's desired weights.
    expect(asked.weights).toEqual([]);
    expect(asked.targets).toEqual(['app-stable', 'app-canary']);
    expect(asked.gateway).toEqual([
      {
        routes: ['shop/app', 'ingress/edge'],
        desired: [
          { role: 'canary', service: 'app-canary', weight: 20 },
          { role: 'stable', service: 'app-stable', weight: 80 },
        ],
      },
    ]);
  });

  it('is not verified, with the rule and the reason, when the ALB rule still carries the old weights', async () => {
    const { app } = setup([gatewayRollout(20)], { gateway: gwReport(0) });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    const body = res.json();
    expect(body.verified).toBe(false);
    expect(body.reasons).toEqual(['load balancer of Gateway shop/gw, HTTPRoute shop/app rule "main": Service app-canary has weight 0, expected 20']);
    expect(body.gateway.verified).toBe(false);
    expect(body.gateway.rules[0]).toMatchObject({ actualWeights: { 'app-canary': 0, 'app-stable': 100 }, verified: false });
  });

  it('is not verified when a canary target is not healthy', async () => {
    const { app } = setup([gatewayRollout(20)], { gateway: gwReport(20), healthy: { 'app-canary': 1 } });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    expect(res.json().verified).toBe(false);
    expect(res.json().gateway.verified).toBe(true);
    expect(res.json().reasons).toEqual(['Service app-canary: target group k8s-shop-app-canary: 1/2 targets healthy']);
  });

  it('a verifier error is a reason, not a verified report', async () => {
    const { app } = setup([gatewayRollout(20)], {
      gateway: () => ({ verified: false, reasons: [], rules: [], error: 'Gateway shop/gw has no load balancer address yet', elbv2Calls: 0 }),
    });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    expect(res.json()).toMatchObject({ verified: false, reasons: ['Gateway shop/gw has no load balancer address yet'], gateway: { verified: false, rules: [] } });
  });

  it('a GRPCRoute is listed under grpcRoutes, and each rule says its route\'s kind (an HTTPRoute and a GRPCRoute may share a name)', async () => {
    const r = withWeight(canaryRollout('web'), 20);
    r.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: { httpRoute: 'app', grpcRoute: 'app' } };
    const grpcRule = { route: 'shop/app', routeKind: 'GRPCRoute' as const, gateway: 'shop/gw', rule: 'rule "main"', ruleArn: `${GW_RULE}-grpc`, weights: { 'app-stable': 80, 'app-canary': 20 } };
    const { app } = setup([r], { gateway: (d) => { const rep = gwReport(20)(d); return { ...rep, rules: [...rep.rules, grpcRule] }; } });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    await app.close();
    const gw = (res.json() as { gateway: { routes: string[]; grpcRoutes?: string[]; rules: Array<{ route: string; routeKind: string; ruleArn: string }> } }).gateway;
    expect(gw.routes).toEqual(['shop/app']);
    expect(gw.grpcRoutes).toEqual(['shop/app']);
    expect(gw.rules.map((x) => [x.routeKind, x.route, x.ruleArn])).toEqual([['HTTPRoute', 'shop/app', GW_RULE], ['GRPCRoute', 'shop/app', `${GW_RULE}-grpc`]]);
  });

  it('before any weight was set: only the stable targets, the whole weight on stable', async () => {
    const r = canaryRollout('web');
    r.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: { httpRoute: 'app' } };
    const { app, asked } = setup([r], { gateway: gwReport(0) });
    const res = await app.inject('/api/v1/rollouts/shop/web');
    await app.close();
    expect(res.json()).toMatchObject({ verified: true, gateway: { routes: ['shop/app'], expectedWeights: { 'app-canary': 0, 'app-stable': 100 } } });
    expect(asked.targets).toEqual(['app-stable']);
  });
});
