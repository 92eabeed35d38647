// The JSON API for a Rollout in listener-rule mode, through fastify inject: the report source built on the
// real listener-rule router (weightReport / targetsReport) against moto, with target verification's
// Kubernetes reads answered by nock through the real client-node adapter.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModifyRuleCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { FastifyInstance } from 'fastify';
import { createElbv2 } from '../../src/aws/elbv2.js';
import { createListenerRuleRouter, type ListenerRuleRouter } from '../../src/modes/listener-rule/router.js';
import { createMetrics } from '../../src/metrics.js';
import { buildServer } from '../../src/server/app.js';
import type { Rollout } from '../../src/core/rollout.js';
import { createTargetsK8s } from '../../src/verify/k8s-targets.js';
import { createTargetVerifier } from '../../src/verify/target-health.js';
import { fakeKubeConfig, freePort } from '../k8s/fake-cluster.js';
import { registerTargets } from '../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';
import { bindingReader, NS, PLUGIN, rollout, seed, type Fixture, type ServiceName } from '../modes/listener-rule/fixtures.js';
import { reportSourceOver } from './fixtures.js';

const json = { 'content-type': 'application/json' };
let moto: Moto;
let direct: ElasticLoadBalancingV2Client;
let fx: Fixture;
let router: ListenerRuleRouter;
let base: string;
let kubeHost: string;
let ipSeq = 0;
const ip = (): string => `10.0.2.${++ipSeq}`;

beforeAll(async () => {
  moto = await startMoto();
  direct = elbv2Client(moto.endpoint);
  kubeHost = `127.0.0.1:${await freePort()}`;
  base = `http://${kubeHost}`;
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host === `127.0.0.1:${moto.port}`);
});

afterAll(async () => {
  nock.enableNetConnect();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  fx = await seed(moto.endpoint, direct);
  const elbv2 = createElbv2({ client: elbv2Client(moto.endpoint), rateLimit: 1000, rateBurst: 1000 });
  const targets = createTargetVerifier({
    elbv2,
    k8s: createTargetsK8s(fakeKubeConfig(base)),
    targetGroupBindingApiVersion: 'elbv2.k8s.aws/v1beta1',
    mode: 'healthy',
  });
  router = createListenerRuleRouter({ elbv2, ...bindingReader(fx.bindings), pluginName: PLUGIN, targets });
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every expected Kubernetes request was made').toEqual([]);
});

/** The Kubernetes reads of one `verifyTargets(service)`: the Service, the namespace's bindings, its EndpointSlice. */
function kubeService(service: string, readyIps: string[]): void {
  nock(base)
    .get(`/api/v1/namespaces/${NS}/services/${service}`)
    .reply(200, { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }, json);
  nock(base)
    .get(`/apis/elbv2.k8s.aws/v1beta1/namespaces/${NS}/targetgroupbindings`)
    .reply(
      200,
      {
        apiVersion: 'elbv2.k8s.aws/v1beta1',
        kind: 'TargetGroupBindingList',
        items: [...fx.bindings.values()].map((b) => ({
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name: b.name, namespace: NS },
          spec: { targetGroupARN: b.targetGroupArn, targetType: 'ip', serviceRef: { name: b.serviceName, port: 80 } },
        })),
      },
      json,
    );
  nock(base)
    .get(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`)
    .query({ labelSelector: `kubernetes.io/service-name=${service}` })
    .reply(
      200,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSliceList',
        items: [{ metadata: { name: `${service}-0` }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: readyIps.map((a) => ({ addresses: [a], conditions: { ready: true } })) }],
      },
      json,
    );
}

async function pods(svc: ServiceName, ready: number, registered = ready): Promise<void> {
  const ips = Array.from({ length: ready }, ip);
  await registerTargets(direct, fx.tg[svc], ips.slice(0, registered).map((a) => ({ ip: a, port: 8080 })));
  kubeService(svc, ips);
}

const tgbs = { stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'app-canary-tgb' } };

/** A listener-rule Rollout whose status says Argo last set the canary to `weight`. */
function atWeight(weight: number, block: Record<string, unknown> = { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }): Rollout {
  const r = rollout({ block });
  r.metadata.resourceVersion = String(100 + weight);
  r.status = { canary: { weights: { canary: { serviceName: 'app-canary', weight }, stable: { serviceName: 'app-stable', weight: 100 - weight } } } };
  return r;
}

function app(r: Rollout, withTargets = true): FastifyInstance {
  const source = reportSourceOver({
    pluginName: PLUGIN,
    getRollout: async (ns, name) => (ns === NS && name === r.metadata.name ? r : undefined),
    // Ingress mode's checks: a listener-rule Rollout must never reach them.
    weights: { report: () => Promise.reject(new Error('Ingress-mode weight check called')) },
    targets: { verifyTargets: () => Promise.reject(new Error('Ingress-mode target check called')) },
    ingressHostnames: () => Promise.reject(new Error('Ingress hostname read called')),
    listenerRule: {
      weightReport: (ro, desired, extra) => router.weightReport(ro, desired, extra),
      ...(withTargets ? { targetsReport: (ro: Rollout) => router.targetsReport(ro) } : {}),
    },
    now: () => new Date('2026-11-21T15:00:00Z'),
  });
  return buildServer({ registry: createMetrics().registry, readiness: [], reports: source, pluginName: PLUGIN });
}

async function setRule(weights: Array<[ServiceName, number]>): Promise<void> {
  await direct.send(
    new ModifyRuleCommand({
      RuleArn: fx.drivenRule,
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: weights.map(([svc, w]) => ({ TargetGroupArn: fx.tg[svc], Weight: w })) } }],
    }),
  );
}

describe('listener-rule Rollout report', () => {
  it('is verified when the rule carries the weights and both driven target groups hold their pods', async () => {
    const r = atWeight(20);
    await router.setWeight(r, 20, []);
    await pods('app-stable', 2);
    await pods('app-canary', 1);
    const server = app(r);
    const res = await server.inject('/api/v1/rollouts/shop/shop-api/verify');
    await server.close();

    expect(res.statusCode).toBe(200);
    const tg = (role: 'stable' | 'canary', svc: ServiceName, n: number) => ({
      role,
      service: svc,
      targetGroupBinding: `${svc}-tgb`,
      arn: fx.tg[svc],
      expectedTargets: n,
      registeredTargets: n,
      healthyTargets: n,
      verified: true,
      reasons: [],
    });
    expect(res.json()).toEqual({
      rollout: { namespace: NS, name: 'shop-api', strategy: 'canary', desiredWeight: 20 },
      verified: true,
      reasons: [],
      checkedAt: '2026-11-21T15:00:00.000Z',
      ingresses: [],
      listenerRule: {
        ruleArn: fx.drivenRule,
        listenerArn: fx.httpListener,
        expectedWeights: { [fx.tg['app-canary']]: 20, [fx.tg['app-stable']]: 80 },
        actualWeights: { [fx.tg['app-canary']]: 20, [fx.tg['app-stable']]: 80 },
        verified: true,
        reasons: [],
      },
      targetGroups: [tg('stable', 'app-stable', 2), tg('canary', 'app-canary', 1)],
    });
  });

  it('is not verified when someone changed the rule, and says how', async () => {
    const r = atWeight(20);
    await setRule([['app-canary', 50], ['app-stable', 50]]);
    await pods('app-stable', 1);
    await pods('app-canary', 1);
    const server = app(r);
    const res = await server.inject('/api/v1/rollouts/shop/shop-api/verify');
    await server.close();

    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.verified).toBe(false);
    expect(body.listenerRule.verified).toBe(false);
    expect(body.listenerRule.actualWeights).toEqual({ [fx.tg['app-canary']]: 50, [fx.tg['app-stable']]: 50 });
    expect(body.reasons).toEqual(body.listenerRule.reasons);
    expect(body.reasons.length).toBeGreaterThan(0);
    expect(body.reasons.join(' ')).toContain(fx.tg['app-canary']);
  });

  it('is not verified when a canary pod is not in its target group yet', async () => {
    const r = atWeight(20);
    await router.setWeight(r, 20, []);
    await pods('app-stable', 1);
    await pods('app-canary', 2, 1);
    const server = app(r);
    const res = await server.inject('/api/v1/rollouts/shop/shop-api/verify');
    await server.close();

    const body = res.json();
    expect(body.verified).toBe(false);
    expect(body.listenerRule.verified).toBe(true);
    expect(body.targetGroups.map((t: { role: string; verified: boolean }) => [t.role, t.verified])).toEqual([
      ['stable', true],
      ['canary', false],
    ]);
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toMatch(/^canary Service app-canary: .*1\/2/);
  });

  it('leaves out the canary target group while the canary carries no traffic', async () => {
    const r = atWeight(0);
    await router.setWeight(r, 0, []);
    // The canary Service's reads are not answered, so its role's check fails; with weight 0 that must not count.
    await pods('app-stable', 1);
    const server = app(r);
    const body = (await server.inject('/api/v1/rollouts/shop/shop-api')).json();
    await server.close();
    expect(body.verified).toBe(true);
    expect(body.targetGroups.map((t: { role: string }) => t.role)).toEqual(['stable']);
  });

  it('covers the weights only when target verification is off', async () => {
    const r = atWeight(30);
    await router.setWeight(r, 30, []);
    const server = app(r, false);
    const body = (await server.inject('/api/v1/rollouts/shop/shop-api/verify')).json();
    await server.close();
    expect(body).toMatchObject({ verified: true, reasons: [], ingresses: [], targetGroups: [] });
    expect(body.listenerRule.actualWeights).toEqual({ [fx.tg['app-canary']]: 30, [fx.tg['app-stable']]: 70 });
  });

  it('reports a listener default action without a rule ARN', async () => {
    const r = atWeight(10, { listenerRule: { loadBalancerArn: fx.lbArn, listenerPort: 8080, defaultAction: true }, ...tgbs });
    await router.setWeight(r, 10, []);
    const server = app(r, false);
    const body = (await server.inject('/api/v1/rollouts/shop/shop-api/verify')).json();
    await server.close();
    expect(body.listenerRule).toMatchObject({ ruleArn: null, listenerArn: fx.defaultListener, verified: true });
  });

  it.each([
    ['a missing TargetGroupBinding', { listenerRule: { ruleArn: '__RULE__' }, ...tgbs, canaryTargetGroup: { targetGroupBinding: 'nope' } }, 200, /TargetGroupBinding "nope"/],
    ['an unreadable plugin block', { listenerRule: { ruleArn: '__RULE__' }, ...tgbs, ingress: 'app' }, 502, /ingress belongs to Ingress mode/],
  ])('%s: not verified or an upstream error, naming the field', async (_name, block, status, message) => {
    const fixed = JSON.parse(JSON.stringify(block).replace('__RULE__', fx.drivenRule)) as Record<string, unknown>;
    const r = atWeight(20, fixed);
    const server = app(r, false);
    const res = await server.inject('/api/v1/rollouts/shop/shop-api/verify');
    await server.close();
    expect(res.statusCode).toBe(status);
    const body = res.json();
    if (status === 200) {
      expect(body.verified).toBe(false);
      expect(body.reasons.join(' ')).toMatch(message);
    } else {
      expect(body.error.code).toBe('ALB_ERR_UPSTREAM');
      expect(body.error.message).toMatch(message);
    }
  });
});
