// Listener-rule mode's verification side against moto (through the counting, fault-injecting proxy), with
// the Kubernetes reads of target verification answered by nock at the HTTP level through the real
// client-node adapter: the VerifyWeight gate, the driven target-group report and the final-switch guard.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModifyRuleCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2, type Elbv2 } from '../../../src/aws/elbv2.js';
import { listenerRuleAlbTargets } from '../../../src/modes/listener-rule/alb-targets.js';
import { createListenerRuleRouter, type ListenerRuleRouter, type ListenerRuleRouterDeps } from '../../../src/modes/listener-rule/router.js';
import type { Rollout, RolloutStatus } from '../../../src/core/rollout.js';
import type { RolloutEvent } from '../../../src/plugin/hooks.js';
import { RpcVerified } from '../../../src/plugin/router.js';
import { createTargetsK8s } from '../../../src/verify/k8s-targets.js';
import { createTargetVerifier } from '../../../src/verify/target-health.js';
import { fakeKubeConfig, freePort } from '../../k8s/fake-cluster.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../../support/elbv2-proxy.js';
import { registerTargets } from '../../support/lbc-seed.js';
import { elbv2Client, startMoto, type Moto } from '../../support/moto.js';
import { bindingReader, keepingTags, NS, rollout, ruleByArn, seed, weightsOf, type Fixture, type RolloutOptions, type ServiceName } from './fixtures.js';

const json = { 'content-type': 'application/json' };
let moto: Moto;
let proxy: Elbv2Proxy;
let direct: ElasticLoadBalancingV2Client;
let fx: Fixture;
let elbv2: Elbv2;
let deps: ListenerRuleRouterDeps;
let router: ListenerRuleRouter;
/** A router of its own for putting the rule into a state, so the router under test sees no write. */
let seeder: ListenerRuleRouter;
let base: string;
let kubeHost: string;
let ipSeq = 0;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startElbv2Proxy(moto.endpoint);
  direct = elbv2Client(moto.endpoint);
  kubeHost = `127.0.0.1:${await freePort()}`;
  base = `http://${kubeHost}`;
  // Only the fake API server is answered by nock; moto and the proxy are real loopback peers.
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1:') && host !== kubeHost);
});

afterAll(async () => {
  nock.enableNetConnect();
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  fx = await seed(moto.endpoint, direct);
  elbv2 = createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 });
  const targets = createTargetVerifier({
    elbv2,
    k8s: createTargetsK8s(fakeKubeConfig(base)),
    targetGroupBindingApiVersion: 'elbv2.k8s.aws/v1beta1',
    mode: 'healthy',
  });
  // One tag memory for both routers, as the sidecar's one discovery.
  const lr = keepingTags(elbv2);
  deps = { elbv2: lr, ...bindingReader(fx.bindings), pluginName: 'argoproj-labs/alb', targets };
  router = createListenerRuleRouter(deps);
  seeder = createListenerRuleRouter({ elbv2: lr, ...bindingReader(fx.bindings), pluginName: 'argoproj-labs/alb' });
  proxy.resetCounts();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every expected Kubernetes request was made').toEqual([]);
});

const ip = (): string => `10.0.${1 + Math.floor(ipSeq / 250)}.${(++ipSeq % 250) + 1}`;

const tgbs = { stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'app-canary-tgb' } };
const pingPongTgbs = { pingTargetGroup: { targetGroupBinding: 'app-ping-tgb' }, pongTargetGroup: { targetGroupBinding: 'app-pong-tgb' } };
const STEPS = [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }];

const atStep = (index: number): RolloutStatus => ({ stableRS: 'old', currentPodHash: 'new', currentStepIndex: index });
/** Right after the promotion at the end of the steps: stable is the new ReplicaSet, the last weights canary 100. */
const promoted = (lastCanaryWeight = 100): RolloutStatus => ({
  stableRS: 'new',
  currentPodHash: 'new',
  currentStepIndex: STEPS.length,
  canary: {
    weights: {
      canary: { serviceName: 'app-canary', weight: lastCanaryWeight },
      stable: { serviceName: 'app-stable', weight: 100 - lastCanaryWeight },
    },
  },
});

function ro(status: RolloutStatus, o: Partial<RolloutOptions> = {}): Rollout {
  const r = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...(o.pingPong ? pingPongTgbs : tgbs) }, ...o });
  r.metadata.uid = 'uid-shop-api';
  r.spec.strategy.canary!.steps = STEPS;
  r.status = { ...r.status, ...status, canary: { ...r.status?.canary, ...status.canary } };
  return r;
}

/** Someone else (console, Terraform) sets the driven rule's weights. */
async function setRuleBehindOurBack(weights: Array<[ServiceName, number]>): Promise<void> {
  await direct.send(
    new ModifyRuleCommand({
      RuleArn: fx.drivenRule,
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: weights.map(([svc, w]) => ({ TargetGroupArn: fx.tg[svc], Weight: w })) } }],
    }),
  );
}

async function ruleWeights(): Promise<Record<string, number>> {
  return weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!);
}

/** The Kubernetes reads of one `verifyTargets(service)`: the Service, the namespace's bindings, its EndpointSlice. */
function kubeService(service: string, readyIps: string[], extraBindings: Array<{ name: string; arn: string; svc: string }> = []): void {
  nock(base)
    .get(`/api/v1/namespaces/${NS}/services/${service}`)
    .reply(200, { apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace: NS }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }, json);
  const items = [
    ...[...fx.bindings.values()].map((b) => ({ name: b.name, arn: b.targetGroupArn!, svc: b.serviceName })),
    ...extraBindings,
  ].map((b) => ({
    apiVersion: 'elbv2.k8s.aws/v1beta1',
    kind: 'TargetGroupBinding',
    metadata: { name: b.name, namespace: NS },
    spec: { targetGroupARN: b.arn, targetType: 'ip', serviceRef: { name: b.svc, port: 80 } },
  }));
  nock(base)
    .get(`/apis/elbv2.k8s.aws/v1beta1/namespaces/${NS}/targetgroupbindings`)
    .reply(200, { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBindingList', items }, json);
  nock(base)
    .get(`/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`)
    .query({ labelSelector: `kubernetes.io/service-name=${service}` })
    .reply(200, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSliceList',
      items: [{ metadata: { name: `${service}-0` }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: readyIps.map((a) => ({ addresses: [a], conditions: { ready: true } })) }],
    }, json);
}

async function register(svc: ServiceName, ips: string[]): Promise<void> {
  await registerTargets(direct, fx.tg[svc], ips.map((a) => ({ ip: a, port: 8080 })));
}

describe('VerifyWeight gating', () => {
  const cases: Array<[string, () => RolloutStatus, number, RpcVerified, number]> = [
    // moment, status, desired weight, first answer, its DescribeRules calls (the second ask is always free)
    ['at a setWeight step', () => atStep(0), 20, RpcVerified.Verified, 1],
    ['at the end of the steps', () => atStep(STEPS.length), 100, RpcVerified.Verified, 1],
    ['at a pause step first seen mid-rollout (a change the gate did not watch)', () => atStep(1), 20, RpcVerified.Verified, 1],
    ['for a fully promoted Rollout', () => ({ stableRS: 'new', currentPodHash: 'new' }), 0, RpcVerified.NotImplemented, 0],
    ['before the first stable ReplicaSet', () => ({}), 0, RpcVerified.NotImplemented, 0],
  ];

  it.each(cases)('%s: AWS is asked only when it matters, and a positive answer is remembered', async (_moment, status, weight, first, calls) => {
    const rollout = ro(status());
    await seeder.setWeight(rollout, weight, []);
    proxy.resetCounts();

    await expect(router.verifyWeight(rollout, weight, [])).resolves.toEqual({ verified: first });
    expect(proxy.counts()).toEqual(calls ? { DescribeRules: calls } : {});
    proxy.resetCounts();
    await expect(router.verifyWeight(rollout, weight, [])).resolves.toEqual({ verified: first });
    expect(proxy.total()).toBe(0);
  });

  it('asks again while not verified, stops once verified, and asks at the next setWeight step', async () => {
    await seeder.setWeight(ro(atStep(0)), 10, []);
    proxy.resetCounts();
    for (let i = 0; i < 2; i++) {
      await expect(router.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    }
    expect(proxy.counts()).toEqual({ DescribeRules: 2 });

    await seeder.setWeight(ro(atStep(0)), 20, []);
    proxy.resetCounts();
    await expect(router.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    await expect(router.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    // The pause after the step asks for the same weights: remembered.
    await expect(router.verifyWeight(ro(atStep(1)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });

    proxy.resetCounts();
    await expect(router.verifyWeight(ro(atStep(2)), 50, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('a rule changed behind our back after verification: SetWeight repairs it and VerifyWeight reads it again', async () => {
    const step = ro(atStep(0));
    const pause = ro(atStep(1));
    await router.setWeight(step, 20, []);
    await expect(router.verifyWeight(step, 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });

    await setRuleBehindOurBack([['app-canary', 50], ['app-stable', 50]]);
    proxy.resetCounts();
    // Argo's next reconcile: SetWeight first (it reads the rule every time), then VerifyWeight.
    await router.setWeight(pause, 20, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1, ModifyRule: 1 });
    expect(await ruleWeights()).toEqual({ [fx.tg['app-canary']]: 20, [fx.tg['app-stable']]: 80 });
    proxy.resetCounts();
    await expect(router.verifyWeight(pause, 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });

    // A reconcile with nothing to repair keeps the remembered answer.
    proxy.resetCounts();
    await router.setWeight(pause, 20, []);
    await expect(router.verifyWeight(pause, 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('a rule changed behind our back before verification is reported not verified', async () => {
    await router.setWeight(ro(atStep(0)), 20, []);
    await setRuleBehindOurBack([['app-canary', 0], ['app-stable', 100]]);
    proxy.resetCounts();
    await expect(router.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('a throttled read answers NotVerified without Err and leaves the check pending, so the next ask reads again', async () => {
    await seeder.setWeight(ro(atStep(0)), 20, []);
    proxy.throttle('DescribeRules', 100);
    const events: RolloutEvent[] = [];
    const failing = createListenerRuleRouter({
      ...deps,
      events: { emit: (_r, e) => events.push(e) },
      elbv2: createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000, maxAttempts: 1 }),
    });
    // Throttling passes by itself, so the answer carries no Err and Argo asks again in 10 s, the same as in Ingress
    // and Gateway modes (one verdict path, src/verify/verdict.ts); the call used to throw, which Argo takes as an
    // Err and then waits for the next resync.
    await expect(failing.verifyWeight(ro(atStep(1)), 20, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(events).toEqual([
      { type: 'Warning', reason: 'ALBPluginWeightUnverified', message: 'ELBv2 DescribeRules was throttled 1 times in a row (Rate exceeded); giving up for now; checking again' },
    ]);
    proxy.throttle('DescribeRules', 0);
    proxy.resetCounts();
    await expect(failing.verifyWeight(ro(atStep(1)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('a configuration error (AccessDenied) answers NotVerified with an Err, and the error as a Warning Event', async () => {
    await seeder.setWeight(ro(atStep(0)), 20, []);
    const events: RolloutEvent[] = [];
    const withEvents = createListenerRuleRouter({ ...deps, events: { emit: (_r, e) => events.push(e) } });
    const fault = { status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: elasticloadbalancing:DescribeRules' };
    proxy.fail('DescribeRules', 100, fault);
    const res = await withEvents.verifyWeight(ro(atStep(0)), 20, []);
    proxy.fail('DescribeRules', 0, fault);
    expect(res).toEqual({ verified: RpcVerified.NotVerified, err: expect.stringMatching(/^weight verification failed: AccessDenied/) });
    expect(events).toEqual([{ type: 'Warning', reason: 'ALBPluginWeightUnverified', message: res.err!.replace(/^weight verification failed: /, '') }]);
  });

  it('Events as in the other modes: the first reason while not verified, then Normal ALBPluginWeightVerified', async () => {
    const events: RolloutEvent[] = [];
    const withEvents = createListenerRuleRouter({ ...deps, events: { emit: (_r, e) => events.push(e) } });
    await seeder.setWeight(ro(atStep(0)), 10, []);
    await expect(withEvents.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'ALBPluginWeightUnverified' });
    await seeder.setWeight(ro(atStep(0)), 20, []);
    await expect(withEvents.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(events[1]).toEqual({ type: 'Normal', reason: 'ALBPluginWeightVerified', message: 'Weights verified on the listener rule: canary 20, stable 80' });
  });

  it('a SetWeight write while VerifyWeight reads the rule: that verdict is not remembered, the next ask reads again', async () => {
    await seeder.setWeight(ro(atStep(0)), 20, []);
    // Once VerifyWeight has read the rule (20/80), someone sets it to 50/50 and the next reconcile's SetWeight puts
    // 20/80 back, before the verification answers. What VerifyWeight read predates that write.
    let during: (() => Promise<void>) | undefined;
    const racing = createListenerRuleRouter({
      ...deps,
      elbv2: {
        ...elbv2,
        describeRules: async (selector, o) => {
          const rules = await elbv2.describeRules(selector, o);
          const hook = during;
          during = undefined;
          await hook?.();
          return rules;
        },
      },
    });
    during = async () => {
      await setRuleBehindOurBack([['app-canary', 50], ['app-stable', 50]]);
      await racing.setWeight(ro(atStep(0)), 20, []);
    };
    await expect(racing.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(during).toBeUndefined();
    expect(await ruleWeights()).toEqual({ [fx.tg['app-canary']]: 20, [fx.tg['app-stable']]: 80 });
    proxy.resetCounts();
    // Same step, same weights: read again (before, the write's "pending" was overwritten by the raced "verified").
    await expect(racing.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
    proxy.resetCounts();
    await expect(racing.verifyWeight(ro(atStep(0)), 20, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(proxy.total()).toBe(0);
  });
});

describe('weightReport (HTTP API)', () => {
  it('checks now, ungated, and says what the rule carries', async () => {
    const done = ro({ stableRS: 'new', currentPodHash: 'new' });
    await seeder.setWeight(ro(atStep(0)), 20, [{ serviceName: 'app-exp', weight: 10 }]);
    proxy.resetCounts();
    // A fully promoted Rollout: VerifyWeight is gated off, the report still reads the rule.
    await expect(router.verifyWeight(done, 0, [])).resolves.toEqual({ verified: RpcVerified.NotImplemented });
    const report = await router.weightReport(done, 0);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
    expect(report).toMatchObject({
      rollout: `${NS}/shop-api`,
      verified: false,
      desiredWeight: 0,
      maxWeight: 100,
      ruleArn: fx.drivenRule,
      listenerArn: fx.httpListener,
      expected: [{ targetGroupArn: fx.tg['app-canary'], weight: 0 }, { targetGroupArn: fx.tg['app-stable'], weight: 100 }],
      actual: [
        { targetGroupArn: fx.tg['app-canary'], weight: 20 },
        { targetGroupArn: fx.tg['app-exp'], weight: 10 },
        { targetGroupArn: fx.tg['app-stable'], weight: 70 },
      ],
    });
    expect(report.reasons.length).toBeGreaterThan(0);
    expect(report.error).toBeUndefined();
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);

    await expect(router.weightReport(done, 20, [{ serviceName: 'app-exp', weight: 10 }])).resolves.toMatchObject({ verified: true, reasons: [] });
  });

  it('reports a listener default action without a rule ARN, and failures in error instead of throwing', async () => {
    const dflt = rollout({ block: { listenerRule: { loadBalancerName: 'shared-alb', listenerPort: 8080, defaultAction: true }, ...tgbs } });
    const report = await router.weightReport(dflt, 0);
    // Terraform's single-target forward, not yet rewritten by SetWeight.
    expect(report).toMatchObject({ verified: false, listenerArn: fx.defaultListener, actual: [{ targetGroupArn: fx.tg['app-stable'], weight: 1 }] });
    expect(report.ruleArn).toBeUndefined();

    const gone = rollout({ block: { listenerRule: { ruleArn: `${fx.drivenRule.slice(0, -4)}ffff` }, ...tgbs } });
    await expect(router.weightReport(gone, 0)).resolves.toMatchObject({ verified: false, error: expect.stringMatching(/does not exist/) });
  });
});

describe('target groups of the driven rule', () => {
  it.each([
    ['stable and canary', false, 'app-stable', 'app-canary', undefined],
    ['ping-pong (ping stable)', true, 'app-ping', 'app-pong', ['ping', 'pong']],
  ] as Array<[string, boolean, ServiceName, ServiceName, [string, string] | undefined]>)(
    '%s: each role is checked on its own target group only',
    async (_label, pingPong, stableSvc, canarySvc, pingPongRoles) => {
      const [s1, s2, c1, c2] = [ip(), ip(), ip(), ip()];
      await register(stableSvc, [s1, s2]);
      await register(canarySvc, [c1]);
      // The stable Service is also bound to a target group of another load balancer that has none of its
      // pods; the driven rule never sends traffic there, so it does not count.
      kubeService(stableSvc, [s1, s2], [{ name: 'elsewhere', arn: fx.tg.other, svc: stableSvc }]);
      kubeService(canarySvc, [c1, c2]);
      const rollout = ro(pingPong ? { canary: { stablePingPong: 'ping' } } : atStep(0), { pingPong });

      const report = await router.targetsReport(rollout);

      expect(report).toMatchObject({ rollout: `${NS}/shop-api`, mode: 'healthy', verified: false });
      expect(report.error).toBeUndefined();
      expect(report.roles.map((r) => [r.role, r.pingPong, r.service, r.targetGroupArn, r.verified])).toEqual([
        ['stable', pingPongRoles?.[0], stableSvc, fx.tg[stableSvc], true],
        ['canary', pingPongRoles?.[1], canarySvc, fx.tg[canarySvc], false],
      ]);
      expect(report.roles[0]!.targetGroups.map((t) => [t.targetGroupBinding, t.expected, t.healthy])).toEqual([[`${stableSvc}-tgb`, 2, 2]]);
      expect(report.roles[1]!.targetGroups[0]!.missing).toEqual([`${c2}:8080`]);
      expect(report.reasons).toEqual([
        `canary Service ${canarySvc}: target group ${fx.tg[canarySvc]} (TargetGroupBinding ${canarySvc}-tgb): 1/2 endpoints healthy`,
      ]);
      // The unrelated binding was read but is not in the report.
      expect(JSON.stringify(report)).not.toContain(fx.tg.other);
      // JSON-friendly for the HTTP API.
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    },
  );

  it('counts targets in the requested mode', async () => {
    const [s1, c1] = [ip(), ip()];
    await register('app-stable', [s1]);
    await register('app-canary', [c1]);
    proxy.setHealth(c1, { state: 'initial', reason: 'Elb.InitialHealthChecking' });
    try {
      kubeService('app-stable', [s1]);
      kubeService('app-canary', [c1]);
      expect((await router.targetsReport(ro(atStep(0)))).verified).toBe(false);
      kubeService('app-stable', [s1]);
      kubeService('app-canary', [c1]);
      const registered = await router.targetsReport(ro(atStep(0)), 'registered');
      expect(registered).toMatchObject({ mode: 'registered', verified: true });
    } finally {
      proxy.setHealth(c1, undefined);
    }
  });

  it('a target group no binding links to the role\'s Service has nothing to verify; a missing Service is an error', async () => {
    nock(base)
      .get(`/api/v1/namespaces/${NS}/services/app-stable`)
      .reply(404, { kind: 'Status', code: 404, message: 'services "app-stable" not found' }, json);
    kubeService('app-canary', []);
    const rollout = rollout2({ stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { arn: fx.tg.other } });
    const report = await router.targetsReport(rollout);
    expect(report.verified).toBe(false);
    expect(report.error).toBe(`stable (${report.roles[0]!.field}): Service ${NS}/app-stable not found`);
    expect(report.roles[1]).toMatchObject({ role: 'canary', service: 'app-canary', verified: true, targetGroups: [] });
    expect(report.reasons).toEqual([
      `canary Service app-canary: no TargetGroupBinding binds Service ${NS}/app-canary to target group ${fx.tg.other}; ` +
        'its targets are not managed from Kubernetes, nothing to verify',
    ]);
  });

  it('says so when target verification is not configured', async () => {
    const plain = createListenerRuleRouter({ elbv2, ...bindingReader(fx.bindings), pluginName: 'argoproj-labs/alb' });
    const report = await plain.targetsReport(ro(atStep(0)));
    expect(report).toMatchObject({ verified: false, roles: [], error: expect.stringMatching(/target verification is not configured/) });
    expect(proxy.total()).toBe(0);
  });

  function rollout2(block: Record<string, unknown>): Rollout {
    const r = rollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...block } });
    r.status = atStep(0);
    return r;
  }
});

describe('final-switch guard', () => {
  async function atFullCanary(): Promise<void> {
    await seeder.setWeight(ro(atStep(STEPS.length)), 100, []);
    proxy.resetCounts();
  }

  it('keeps the rule at canary 100 until the stable target group holds the new pods, then switches', async () => {
    await atFullCanary();
    const [old1, new1, new2] = [ip(), ip(), ip()];
    await register('app-stable', [old1]);
    const canary100 = { [fx.tg['app-canary']]: 100, [fx.tg['app-stable']]: 0 };

    // Argo has switched the stable Service to the new pods; the binding has not registered them yet.
    kubeService('app-stable', [new1, new2]);
    await expect(router.setWeight(ro(promoted()), 0, [])).rejects.toThrow(
      new RegExp(
        `holding traffic on the canary: waiting for the target groups of stable Service ${NS}/app-stable to hold the new pods \\(healthy\\) ` +
          `before switching back to stable: target group ${fx.tg['app-stable']} \\(TargetGroupBinding app-stable-tgb\\): 0/2 endpoints healthy ` +
          `\\(.*stableTargetGroup = ${fx.tg['app-stable']}\\)`,
      ),
    );
    expect(proxy.counts()).toEqual({ DescribeRules: 1, DescribeTargetHealth: 1 });
    expect(await ruleWeights()).toEqual(canary100);

    // Registered, but one is still in its first health checks.
    await register('app-stable', [new1, new2]);
    proxy.setHealth(new2, { state: 'initial', reason: 'Elb.InitialHealthChecking' });
    try {
      kubeService('app-stable', [new1, new2]);
      await expect(router.setWeight(ro(promoted()), 0, [])).rejects.toThrow(/1\/2 endpoints healthy/);
      expect(await ruleWeights()).toEqual(canary100);
    } finally {
      proxy.setHealth(new2, undefined);
    }

    kubeService('app-stable', [new1, new2]);
    proxy.resetCounts();
    await router.setWeight(ro(promoted()), 0, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1, DescribeTargetHealth: 1, ModifyRule: 1 });
    expect(await ruleWeights()).toEqual({ [fx.tg['app-canary']]: 0, [fx.tg['app-stable']]: 100 });

    // Done: the rule is at stable 100, so the next reconciles write nothing and check nothing.
    proxy.resetCounts();
    await router.setWeight(ro(promoted()), 0, []);
    expect(proxy.counts()).toEqual({ DescribeRules: 1 });
  });

  it('holds with the reason when the stable Service cannot be read', async () => {
    await atFullCanary();
    nock(base).get(`/api/v1/namespaces/${NS}/services/app-stable`).reply(404, { kind: 'Status', code: 404 }, json);
    await expect(router.setWeight(ro(promoted()), 0, [])).rejects.toThrow(/holding traffic on the canary: .*Service shop\/app-stable not found/);
    expect(proxy.count('ModifyRule')).toBe(0);
  });

  const passes: Array<[string, () => { rollout: Rollout; weight: number; router?: ListenerRuleRouter }]> = [
    ['a step weight mid-rollout', () => ({ rollout: ro(atStep(0)), weight: 20 })],
    ['SetWeight(0) after an abort', () => ({ rollout: ro({ ...promoted(), stableRS: 'old', abort: true }), weight: 0 })],
    ['a promotion whose last weight was not the full canary (promote-full mid-rollout)', () => ({ rollout: ro(promoted(50)), weight: 0 })],
    ['a ping-pong promotion', () => ({ rollout: ro({ ...promoted(), canary: { stablePingPong: 'pong' } }, { pingPong: true }), weight: 0 })],
    ['the final switch with guardFinalSwitch: false', () => ({ rollout: ro(promoted()), weight: 0, router: createListenerRuleRouter({ ...deps, guardFinalSwitch: false }) })],
    ['the final switch without target verification', () => ({ rollout: ro(promoted()), weight: 0, router: seeder })],
  ];

  it.each(passes)('lets %s through without reading Kubernetes or target health', async (_label, make) => {
    const { rollout, weight, router: r = router } = make();
    const pingPong = rollout.spec.strategy.canary?.pingPong;
    // Start from the full canary of the Rollout's own roles, so every case has a write to make.
    await setRuleBehindOurBack(pingPong ? [['app-ping', 100], ['app-pong', 0]] : [['app-canary', 100], ['app-stable', 0]]);
    proxy.resetCounts();
    await r.setWeight(rollout, weight, []);
    // DescribeTags: this sidecar's first write to the rule reads its opt-in tag (driven-tag.ts).
    expect(proxy.counts()).toEqual({ DescribeRules: 1, DescribeTags: 1, ModifyRule: 1 });
  });
});

// Issue #19: the load balancer and target groups status.alb and the ALB analysis are made of (Mode.albTargets).
describe('listener-rule mode albTargets', () => {
  it('the driven rule\'s load balancer and the roles\' target groups, ping-pong roles from the status', async () => {
    expect(await listenerRuleAlbTargets((r, d, e) => router.weightReport(r, d, e), ro(atStep(0)))).toEqual([
      { loadBalancerArn: fx.lbArn, canaryTargetGroupArn: fx.tg['app-canary'], stableTargetGroupArn: fx.tg['app-stable'] },
    ]);
    const pingStable = ro({ ...atStep(0), canary: { stablePingPong: 'ping' } }, { pingPong: true });
    expect(await listenerRuleAlbTargets((r, d, e) => router.weightReport(r, d, e), pingStable)).toEqual([
      { loadBalancerArn: fx.lbArn, canaryTargetGroupArn: fx.tg['app-pong'], stableTargetGroupArn: fx.tg['app-ping'] },
    ]);
  });
});
