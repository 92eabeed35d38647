// Cleanup of listener-rule mode Rollouts at the wire level: the CleanupController with the real
// TargetGroupBinding reader and Ingress client (client-node against nock) and the listener-rule router's
// release against a real moto_server. A deleted Rollout leaves its driven rule at 100 % on the effective
// stable target group and loses its header-route rules; Ingress mode is not touched.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { DeleteRuleCommand, ModifyRuleCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2 } from '../../../src/aws/elbv2.js';
import { testCleanup, type TestCleanup } from '../../support/cleanup.js';
import { ListenerRuleCleanup } from '../../../src/modes/listener-rule/cleanup.js';
import { createReleaser } from '../../../src/modes/ingress/releaser.js';
import type { ReleaseOutcome } from '../../../src/plugin/mode.js';
import { createIngressClient } from '../../../src/k8s/ingress-client.js';
import { createListenerRuleRouter, type ListenerRuleRouter } from '../../../src/modes/listener-rule/router.js';
import { createBindingReader } from '../../../src/modes/listener-rule/k8s.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { elbv2Client, startMoto, type Moto } from '../../support/moto.js';
import { listenerRules, NS, PLUGIN, rollout as lrRollout, ruleByArn, seed, weightsOf, type Fixture } from './fixtures.js';
import { API, fakeIngressApi, fwd, ingress, kubeConfig, MANAGED, P, path, rollout as ingressRollout } from '../../cleanup/fixtures.js';

let moto: Moto;
let direct: ElasticLoadBalancingV2Client;
let fx: Fixture;

beforeAll(async () => {
  moto = await startMoto();
  direct = elbv2Client(moto.endpoint);
});
afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  // Kubernetes is nock; only moto's port may be reached for real.
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host === `127.0.0.1:${moto.port}`);
  await moto.reset();
  fx = await seed(moto.endpoint, direct);
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** TargetGroupBindings served by nock from a map the test can change (delete, break) while it runs. */
function fakeBindingApi(fixture: Fixture) {
  const state = { failing: false, reads: 0, bindings: new Map<string, string>() };
  for (const [name, b] of fixture.bindings) state.bindings.set(name, b.targetGroupArn!);
  const service = (name: string) => fixture.bindings.get(name)?.serviceName;
  nock(API)
    .persist()
    .get(new RegExp(`^/apis/elbv2.k8s.aws/v1beta1/namespaces/${NS}/targetgroupbindings/[^/?]+$`))
    .reply((uri) => {
      state.reads++;
      const name = uri.split('/').pop()!;
      if (state.failing) return [500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, message: 'etcdserver: request timed out' }];
      const arn = state.bindings.get(name);
      if (!arn) return [404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }];
      return [
        200,
        {
          apiVersion: 'elbv2.k8s.aws/v1beta1',
          kind: 'TargetGroupBinding',
          metadata: { name, namespace: NS },
          spec: { serviceRef: { name: service(name), port: 80 }, targetGroupARN: arn, targetType: 'ip' },
        },
      ];
    });
  return state;
}

interface Setup {
  router: ListenerRuleRouter;
  controller: TestCleanup;
  lrCleanup: ListenerRuleCleanup;
  outcomes: ReleaseOutcome[];
}

function setup(readRollout?: (ns: string, name: string) => Promise<Rollout | undefined>): Setup {
  const bindings = createBindingReader(kubeConfig());
  const router = createListenerRuleRouter({
    elbv2: createElbv2({ client: elbv2Client(moto.endpoint), rateLimit: 1000, rateBurst: 1000 }),
    ...bindings,
    pluginName: PLUGIN,
  });
  const outcomes: ReleaseOutcome[] = [];
  const lrCleanup = new ListenerRuleCleanup({
    pluginName: PLUGIN,
    bindings,
    release: (r) => router.release(r),
    onOutcome: (o) => outcomes.push(o),
  });
  const controller = testCleanup({
    pluginName: PLUGIN,
    albIngressClasses: ['alb'],
    releaser: createReleaser({ ingresses: createIngressClient(kubeConfig()), onOutcome: (o) => outcomes.push(o) }),
    listenerRules: lrCleanup,
    ...(readRollout ? { readRollout } : {}),
  });
  return { router, controller, lrCleanup, outcomes };
}

const tgbs = { stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'app-canary-tgb' } };
const pingPongTgbs = { pingTargetGroup: { targetGroupBinding: 'app-ping-tgb' }, pongTargetGroup: { targetGroupBinding: 'app-pong-tgb' } };
const beta = { name: 'beta', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] };

describe('a deleted listener-rule Rollout', () => {
  it.each<{ name: string; ro: () => Rollout; startsOn: 'app-stable' | 'app-ping' | 'app-pong'; stable: 'app-stable' | 'app-ping' | 'app-pong' }>([
    { name: 'plain: 100 % on the stable target group', ro: () => lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, managedRoutes: ['beta'] }), startsOn: 'app-stable', stable: 'app-stable' },
    {
      name: 'ping-pong, ping stable: 100 % on ping',
      ro: () => lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...pingPongTgbs }, pingPong: true, stablePingPong: 'ping', managedRoutes: ['beta'] }),
      startsOn: 'app-ping',
      stable: 'app-ping',
    },
    {
      name: 'ping-pong before the first promotion: 100 % on pong',
      ro: () => lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...pingPongTgbs }, pingPong: true, managedRoutes: ['beta'] }),
      startsOn: 'app-pong',
      stable: 'app-pong',
    },
  ])('$name, header-route rule deleted, neighbours untouched', async ({ ro, startsOn, stable }) => {
    fakeBindingApi(fx);
    const { router, controller, outcomes } = setup();
    const r = ro();
    await direct.send(new ModifyRuleCommand({ RuleArn: fx.drivenRule, Actions: [{ Type: 'forward', TargetGroupArn: fx.tg[startsOn] }] }));
    await router.setWeight(r, 30, []);
    await router.setHeaderRoute(r, beta);
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(5);
    const neighbour = await ruleByArn(direct, fx.neighbourRule);
    const auth = await ruleByArn(direct, fx.authRule);
    await controller.upsert(r);

    await expect(controller.remove(r)).resolves.toEqual(['released']);
    expect(outcomes).toEqual(['released']);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg[stable]]: 100 });
    expect(await listenerRules(direct, fx.httpListener)).toHaveLength(4);
    expect(await ruleByArn(direct, fx.neighbourRule)).toEqual(neighbour);
    expect(await ruleByArn(direct, fx.authRule)).toEqual(auth);
    expect(controller.get(NS, r.metadata.name)).toBeUndefined();
  });

  it('still finds the target groups when the bindings were deleted together with the Rollout', async () => {
    const api = fakeBindingApi(fx);
    const { router, controller } = setup();
    const r = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(r, 60, []);
    await controller.upsert(r);
    api.bindings.delete('app-stable-tgb');
    api.bindings.delete('app-canary-tgb');

    await expect(controller.remove(r)).resolves.toEqual(['released']);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-stable']]: 100 });
  });

  it('reports rule_gone when the rule went with it, and does not retry', async () => {
    fakeBindingApi(fx);
    const { controller, lrCleanup } = setup();
    const r = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await controller.upsert(r);
    await direct.send(new DeleteRuleCommand({ RuleArn: fx.drivenRule }));
    await expect(controller.remove(r)).resolves.toEqual(['rule_gone']);
    expect(lrCleanup.pendingReleases()).toEqual([]);
  });

  it('retries a failed release at the next sweep, once the API server confirms the Rollout is gone', async () => {
    const api = fakeBindingApi(fx);
    const { router, controller, lrCleanup, outcomes } = setup(async () => undefined);
    const r = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(r, 40, []);
    // Never seen by the watch (nothing remembered), and Kubernetes failing at deletion time.
    api.failing = true;
    await expect(controller.remove(r)).resolves.toEqual(['error']);
    expect(lrCleanup.pendingReleases()).toEqual([`${NS}/shop-api`]);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 40, [fx.tg['app-stable']]: 60 });

    api.failing = false;
    await expect(controller.sweep([])).resolves.toEqual(['released']);
    expect(outcomes).toEqual(['error', 'released']);
    expect(lrCleanup.pendingReleases()).toEqual([]);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-stable']]: 100 });
    // Nothing left to do at the next sweep.
    await expect(controller.sweep([])).resolves.toEqual([]);
  });

  it('drops a pending release when the Rollout drives a listener rule again', async () => {
    const api = fakeBindingApi(fx);
    const { router, controller, lrCleanup } = setup(async (_ns, name) => lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, name }));
    const r = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(r, 40, []);
    api.failing = true;
    await controller.remove(r);
    api.failing = false;
    await expect(controller.sweep([])).resolves.toEqual([]);
    expect(lrCleanup.pendingReleases()).toEqual([]);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 40, [fx.tg['app-stable']]: 60 });
  });
});

describe('a Rollout that leaves listener-rule mode', () => {
  const noPlugin = (): Rollout => {
    const r = lrRollout({ block: {} });
    r.spec.strategy.canary!.trafficRouting = {};
    return r;
  };
  it.each<{ name: string; after: () => Rollout; released: boolean }>([
    { name: 'plugin block removed: the rule is released', after: noPlugin, released: true },
    { name: 'back to Ingress mode: the rule is released', after: () => ingressRollout({ name: 'shop-api' }), released: true },
    // Ping-pong without rootService: an Ingress-mode block that cannot be read (user mid-edit).
    { name: 'an unreadable Ingress-mode block: nothing is concluded', after: () => ingressRollout({ name: 'shop-api', pingPong: true }), released: false },
    { name: 'still listener-rule mode: nothing to release', after: () => lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } }), released: false },
  ])('$name', async ({ after, released }) => {
    fakeBindingApi(fx);
    // Back in Ingress mode the Rollout names Ingress "app"; nothing was held there before, so nothing is patched.
    const ingresses = fakeIngressApi([]);
    const { router, controller } = setup();
    const before = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(before, 40, []);
    await controller.upsert(before);

    await expect(controller.upsert(after())).resolves.toEqual(released ? ['released'] : []);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual(
      released ? { [fx.tg['app-stable']]: 100 } : { [fx.tg['app-canary']]: 40, [fx.tg['app-stable']]: 60 },
    );
    expect(ingresses.patches).toEqual([]);
  });

  it('retries a failed release at the sweep while the Rollout stays out of listener-rule mode', async () => {
    const api = fakeBindingApi(fx);
    const { router, controller } = setup(async () => ingressRollout({ name: 'shop-api' }));
    const before = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs } });
    await router.setWeight(before, 40, []);
    api.failing = true;
    await controller.upsert(before);
    await expect(controller.upsert(ingressRollout({ name: 'shop-api' }))).resolves.toEqual(['error']);
    api.failing = false;
    await expect(controller.sweep([])).resolves.toEqual(['released']);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-stable']]: 100 });
  });
});

describe('Ingress mode next to listener-rule mode', () => {
  const KEY = `${P}/actions.app-stable`;
  const held = () =>
    ingress('app', { [KEY]: fwd(['app-canary', 80, 30], ['app-stable', 80, 70]), [MANAGED]: JSON.stringify({ web: [KEY] }) }, [path('app-stable')]);

  it('a deleted listener-rule Rollout sends no Ingress request', async () => {
    fakeBindingApi(fx);
    const ingresses = fakeIngressApi([held()]);
    const { controller } = setup();
    const r = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, name: 'web' });
    await controller.upsert(r);
    await expect(controller.remove(r)).resolves.toEqual(['released']);
    expect(ingresses.patches).toEqual([]);
    expect(ingresses.current('app')!.metadata.annotations![MANAGED]).toBe(JSON.stringify({ web: [KEY] }));
  });

  it('a Rollout that moves from Ingress mode to listener-rule mode releases its Ingress', async () => {
    fakeBindingApi(fx);
    const ingresses = fakeIngressApi([held()]);
    const { controller } = setup();
    await controller.upsert(ingressRollout());
    const moved = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, name: 'web' });
    await expect(controller.upsert(moved)).resolves.toEqual(['released']);
    expect(ingresses.current('app')!.metadata.annotations).toEqual({ [KEY]: fwd(['app-stable', 80, 100]) });
  });

  it('the sweep releases an entry left on an Ingress by a Rollout now in listener-rule mode', async () => {
    fakeBindingApi(fx);
    const ingresses = fakeIngressApi([held()]);
    const moved = lrRollout({ block: { listenerRule: { ruleArn: fx.drivenRule }, ...tgbs }, name: 'web' });
    const { controller } = setup(async () => moved);
    await controller.upsert(moved);
    await expect(controller.sweep([held()])).resolves.toEqual(['released']);
    expect(ingresses.current('app')!.metadata.annotations).toEqual({ [KEY]: fwd(['app-stable', 80, 100]) });
  });
});
