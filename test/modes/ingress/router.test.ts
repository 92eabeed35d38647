// The router against Kubernetes at the HTTP level (nock): ports of Argo's alb_test.go SetWeight / header /
// mirror / remove cases (spec §9.1), each run for a single `ingress` and for two `ingresses`, plus conflict
// handling and two Rollouts sharing one Ingress. Argo counts "API calls" on a fake clientset behind an
// informer cache; here every Ingress is read live, so "0 API calls" means "no PATCH".
import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIngressClient } from '../../../src/k8s/ingress-client.js';
import type { Ingress } from '../../../src/k8s/ingress.js';
import { createIngressRouter, type IngressRouterDeps } from '../../../src/modes/ingress/router.js';
import { RpcVerified } from '../../../src/plugin/router.js';
import type { RolloutEvent } from '../../../src/plugin/hooks.js';
import type { WeightRequest } from '../../../src/modes/ingress/view.js';
import type { WeightStep } from '../../../src/core/weights.js';
import { FakeIngressStore, fakeKubeConfig, useNockedApiServer, ingressPath, jsonBody, MERGE_PATCH } from '../../k8s/fake-cluster.js';
import { action, makeIngress, makeRollout, MANAGED, PLUGIN, PREFIX, type IngressOptions, type RolloutOptions } from './fixtures.js';

let base: string;
const json = { 'content-type': 'application/json' };
const ACTION = `${PREFIX}/actions.stable-svc`;

const apiServer = useNockedApiServer();
beforeAll(() => {
  base = apiServer();
});

interface Patch {
  name: string;
  contentType: string | undefined;
  body: unknown;
}

/** Expected requests, in order of registration; PATCH bodies are captured for exact assertions. */
class Api {
  readonly patches: Patch[] = [];

  get(ingress: Ingress): this {
    nock(base).get(ingressPath('default', ingress.metadata.name)).reply(200, ingress, json);
    return this;
  }

  getStatus(name: string, code: number, message: string): this {
    nock(base).get(ingressPath('default', name)).reply(code, { kind: 'Status', code, message }, json);
    return this;
  }

  patch(name: string, code = 200, message = ''): this {
    const patches = this.patches;
    nock(base)
      .patch(ingressPath('default', name))
      .reply(function (this: nock.ReplyFnContext, _uri, body) {
        patches.push({ name, contentType: this.req.headers['content-type'] as string, body: jsonBody(body) });
        if (code !== 200) return [code, { kind: 'Status', code, message }, json];
        return [200, makeIngress({ name }), json];
      });
    return this;
  }
}

function router(extra: Partial<IngressRouterDeps> = {}) {
  const events: RolloutEvent[] = [];
  const r = createIngressRouter({
    ingresses: createIngressClient(fakeKubeConfig(base)),
    pluginName: PLUGIN,
    albIngressClasses: ['alb'],
    events: { emit: (_rollout, e) => events.push(e) },
    ...extra,
  });
  return { r, events };
}

const body = (annotations: Record<string, string | null>, rv = '1', rules?: unknown) => ({
  metadata: { resourceVersion: rv, annotations },
  ...(rules ? { spec: { rules } } : {}),
});

const modes: Array<[string, Record<string, unknown>, string[]]> = [
  ['single ingress', { ingress: 'ingress', servicePort: 443 }, ['ingress']],
  ['multi ingress', { ingresses: ['ingress', 'multi-ingress'], servicePort: 443 }, ['ingress', 'multi-ingress']],
];

describe.each(modes)('%s (spec §9.1)', (_mode, plugin, names) => {
  const withPlugin = (o: RolloutOptions = {}) => makeRollout({ ...o, plugin: { ...plugin, ...(o.plugin ?? {}) } });
  const ing = (name: string, o: IngressOptions = {}) => makeIngress({ name, ...o });

  it('TestType: Type() is ALB', () => {
    expect(router().r.type()).toBe('ALBPlugin');
  });

  it('TestIngressNotFound: NotFound for every Ingress, each one tried', async () => {
    const api = new Api();
    for (const n of names) api.getStatus(n, 404, `ingresses.networking.k8s.io "${n}" not found`);
    const err = router().r.setWeight(withPlugin(), 10, []);
    await expect(err).rejects.toThrow(`ingress.networking.k8s.io "${names.at(-1)}" not found`);
    expect(api.patches).toEqual([]);
  });

  it('TestServiceNotFoundInIngress: rootService not in rules, nothing written', async () => {
    const api = new Api();
    for (const n of names) api.get(ing(n, { weight: 5 }));
    await expect(router().r.setWeight(withPlugin({ plugin: { rootService: 'invalid-svc' } }), 10, [])).rejects.toThrow(
      /ingress `ingress` does not have service `invalid-svc` in rules/,
    );
    expect(api.patches).toEqual([]);
  });

  it('TestNoChanges: already at 10, no PATCH and no event', async () => {
    const api = new Api();
    for (const n of names) api.get(ing(n, { weight: 10 }));
    const { r, events } = router();
    await r.setWeight(withPlugin(), 10, []);
    expect(api.patches).toEqual([]);
    expect(events).toEqual([]);
  });

  it('TestErrorOnInvalidManagedBy: the last Ingress has an invalid managed annotation', async () => {
    const api = new Api();
    names.forEach((n, i) => {
      const ingress = ing(n, { weight: i === names.length - 1 ? 10 : 5 });
      if (i === names.length - 1) ingress.metadata.annotations![MANAGED] = 'test';
      api.get(ingress);
      if (i < names.length - 1) api.patch(n);
    });
    await expect(router().r.setWeight(withPlugin(), 10, [])).rejects.toThrow(
      new RegExp(`^ingress \`${names.at(-1)}\`: annotation alb.rollouts.argoproj-labs.io/managed-annotations is not valid JSON`),
    );
    expect(api.patches.map((p) => p.name)).toEqual(names.slice(0, -1));
  });

  it('TestSetInitialDesiredWeight: first Ingress without annotations, second at 5 → one merge patch each, exact bytes', async () => {
    const api = new Api();
    names.forEach((n, i) => api.get(i === 0 ? ing(n) : ing(n, { weight: 5 })).patch(n));
    const { r, events } = router();
    await r.setWeight(withPlugin(), 10, []);
    const want = action('canary-svc', 'stable-svc', 443, 10);
    expect(api.patches).toEqual(
      names.map((name, i) => ({
        name,
        contentType: MERGE_PATCH,
        body: body(i === 0 ? { [ACTION]: want, [MANAGED]: `{"rollout":["${ACTION}"]}` } : { [ACTION]: want }),
      })),
    );
    expect(events).toEqual(
      names.map((n) => ({ type: 'Normal', reason: 'ALBPluginIngressPatched', message: `Updating Ingress \`${n}\` to desiredWeight '10'` })),
    );
  });

  it('TestSetWeightPingPong: weights on ping (canary) and pong (stable), key actions.root-service', async () => {
    const api = new Api();
    for (const n of names) api.get(ing(n, { actionService: 'root-service' })).patch(n);
    const rollout = withPlugin({ plugin: { rootService: 'root-service' }, pingPong: { pingService: 'ping-service', pongService: 'pong-service' }, stablePingPong: 'pong-service' });
    await router().r.setWeight(rollout, 10, []);
    const key = `${PREFIX}/actions.root-service`;
    expect(api.patches.map((p) => p.body)).toEqual(
      names.map(() => body({ [key]: action('ping-service', 'pong-service', 443, 10), [MANAGED]: `{"rollout":["${key}"]}` })),
    );
  });

  it.each([
    ['TestUpdateDesiredWeight', undefined],
    ['TestUpdateDesiredWeightWithStickyConfig (stickiness dropped)', 300],
  ])('%s: 5 → 10, only the action key is sent', async (_name, sticky) => {
    const api = new Api();
    for (const n of names) api.get(ing(n, { weight: 5, ...(sticky ? { sticky } : {}) })).patch(n);
    await router().r.setWeight(withPlugin(), 10, []);
    expect(api.patches.map((p) => p.body)).toEqual(names.map(() => body({ [ACTION]: action('canary-svc', 'stable-svc', 443, 10) })));
  });

  it('TestErrorPatching: the first PATCH fails; corrected, the other Ingresses are still updated (Argo stops)', async () => {
    const api = new Api();
    names.forEach((n, i) => api.get(ing(n, { weight: 5 })).patch(n, i === 0 ? 500 : 200, 'some error occurred'));
    await expect(router().r.setWeight(withPlugin(), 10, [])).rejects.toThrow('error patching alb ingress `ingress`: some error occurred');
    expect(api.patches.map((p) => p.name)).toEqual(names);
  });

  it('TestSetWeightWithMultipleBackends: experiments between canary and stable, byte for byte', async () => {
    const api = new Api();
    for (const n of names) api.get(ing(n, { weight: 0 })).patch(n);
    await router().r.setWeight(withPlugin(), 10, [
      { serviceName: 'ex-svc-1', weight: 2, podTemplateHash: 'a' },
      { serviceName: 'ex-svc-2', weight: 3, podTemplateHash: 'b' },
    ]);
    expect(api.patches.map((p) => p.body)).toEqual(
      names.map(() =>
        body({
          [ACTION]:
            '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":10},{"ServiceName":"ex-svc-1","ServicePort":"443","Weight":2},{"ServiceName":"ex-svc-2","ServicePort":"443","Weight":3},{"ServiceName":"stable-svc","ServicePort":"443","Weight":85}]}}',
        }),
      ),
    );
  });

  it('TestSetHeaderRoute + RemoveManagedRoutes: route added (prefix → wildcard), then removed from the live Ingress', async () => {
    // Argo's RemoveManagedRoutes adds no patch because its cache still holds the original Ingress; with live
    // reads the route just added is found and removed (corrected), leaving the Ingress as it was.
    const stores = names.map((n) => new FakeIngressStore(base, ing(n, { weight: 10 })));
    const originals = stores.map((s) => structuredClone(s.ingress));
    stores.forEach((s) => s.intercept({ gets: 2, patches: 2 }));
    const ro = withPlugin({ managedRoutes: ['header-route'] });
    const { r, events } = router();
    await r.setHeaderRoute(ro, { name: 'header-route', match: [{ headerName: 'Agent', headerValue: { prefix: 'Chrome' } }] });
    for (const s of stores) {
      const a = s.ingress.metadata.annotations!;
      expect(a[`${PREFIX}/actions.header-route`]).toBe('{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":100}]}}');
      expect(a[`${PREFIX}/conditions.header-route`]).toBe('[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Agent","values":["Chrome*"]}}]');
      expect(s.ingress.spec!.rules![0]!.http!.paths.map((p) => [p.backend.service!.name, p.path, p.pathType])).toEqual([
        ['header-route', '/api', 'Prefix'],
        ['stable-svc', '/api', 'Prefix'],
      ]);
    }
    await r.removeManagedRoutes(ro);
    stores.forEach((s, i) => {
      expect(s.ingress.metadata.annotations).toEqual({ ...originals[i]!.metadata.annotations, [MANAGED]: `{"rollout":["${ACTION}"]}` });
      expect(s.ingress.spec).toEqual(originals[i]!.spec);
      expect(s.requests.filter((q) => q.method === 'PATCH').every((q) => q.contentType === MERGE_PATCH)).toBe(true);
    });
    expect(events.map((e) => e.message)).toEqual([
      ...names.map((n) => `Updating Ingress \`${n}\` to headerRoute 'header-route'`),
      ...names.map((n) => `Updating Ingress \`${n}\` removing managed routes`),
    ]);
  });

  it('TestRemoveManagedRoutes: SetHeaderRoute without match removes; a second removal finds nothing (corrected count)', async () => {
    const withRoute = (n: string) => {
      const i = ing(n, { weight: 10 });
      i.metadata.annotations![`${PREFIX}/actions.header-route`] = '{}';
      i.metadata.annotations![`${PREFIX}/conditions.header-route`] = '{}';
      i.metadata.annotations![MANAGED] = `{"rollout":["${ACTION}","${PREFIX}/actions.header-route","${PREFIX}/conditions.header-route"]}`;
      i.spec!.rules!.push({ http: { paths: [{ path: '/*', pathType: 'ImplementationSpecific', backend: { service: { name: 'header-route', port: { name: 'use-annotation' } } } }] } });
      return i;
    };
    const stores = names.map((n) => new FakeIngressStore(base, withRoute(n)));
    stores.forEach((s) => s.intercept({ gets: 2, patches: 1 }));
    const ro = withPlugin({ managedRoutes: ['header-route'] });
    const { r } = router();
    await r.setHeaderRoute(ro, { name: 'header-route' });
    await r.removeManagedRoutes(ro);
    const patches = stores.flatMap((s) => s.requests.filter((q) => q.method === 'PATCH'));
    expect(patches.map((p) => p.body)).toEqual(
      names.map(() =>
        body(
          { [`${PREFIX}/actions.header-route`]: null, [`${PREFIX}/conditions.header-route`]: null, [MANAGED]: `{"rollout":["${ACTION}"]}` },
          '1',
          // Corrected: the route's own rule is dropped, not sent as `{http: {paths: []}}` (the API server rejects that).
          [makeIngress().spec!.rules![0]],
        ),
      ),
    );
  });

  it('TestSetMirrorRoute: corrected, ALB cannot mirror and says so; RemoveManagedRoutes without routes makes no request', async () => {
    const { r } = router();
    await expect(r.setMirrorRoute(withPlugin(), { name: 'mirror', percentage: 50 })).rejects.toThrow(/^ALB cannot mirror traffic/);
    await r.removeManagedRoutes(withPlugin());
  });

  it('per-Ingress ports are written into each Ingress\'s action', async () => {
    const api = new Api();
    names.forEach((n) => api.get(ing(n)).patch(n));
    const ports = names.map((_, i) => 8000 + i);
    const ro = makeRollout({ plugin: { ingresses: names.map((n, i) => ({ name: n, servicePort: ports[i] })) } });
    await router().r.setWeight(ro, 20, []);
    expect(api.patches.map((p) => (p.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations[ACTION])).toEqual(
      ports.map((p) => action('canary-svc', 'stable-svc', p, 20)),
    );
  });
});

describe('refusals before anything is written', () => {
  it.each([
    ['stable would be negative', 90, [{ serviceName: 'ex', weight: 20 }], /stable would get -10/],
    ['too many target groups', 0, ['a', 'b', 'c', 'd'].map((s) => ({ serviceName: s, weight: 1 })), /ALB forwards to at most 5/],
    ['weight above the maximum', 101, [], /canary weight 101 is out of range/],
  ])('%s', async (_name, weight, extra, error) => {
    await expect(router().r.setWeight(makeRollout(), weight, extra)).rejects.toThrow(error);
  });

  it('invalid configuration names the field', async () => {
    await expect(router().r.setWeight(makeRollout({ plugin: { ingress: 'ingress' } }), 10, [])).rejects.toThrow(
      'spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"].servicePort: missing',
    );
  });

  it.each([
    ['an Ingress of another class', { className: 'nginx' }, /has class "nginx", which is not one of the ALB classes/],
    ['a numeric backend port', { backendPort: { number: 80 } }, /uses port 80; set service.port.name to use-annotation/],
  ])('%s is read but not written', async (_name, o, error) => {
    const api = new Api().get(makeIngress(o));
    await expect(router().r.setWeight(makeRollout(), 10, [])).rejects.toThrow(error);
    expect(api.patches).toEqual([]);
  });

  it('an Ingress without class is accepted when "" is configured', async () => {
    const ingress = makeIngress({ weight: 10 });
    delete ingress.spec!.ingressClassName;
    new Api().get(ingress);
    await router({ albIngressClasses: ['', 'alb'] }).r.setWeight(makeRollout(), 10, []);
  });
});

describe('guard and verifier hooks', () => {
  it('a holding guard stops SetWeight before any request, with its reason', async () => {
    const seen: WeightStep[] = [];
    const { r } = router({ guard: { beforeSetWeight: async (req) => (seen.push(req), { hold: true, reason: 'stable TG has 0/3 new pods healthy' }) } });
    await expect(r.setWeight(makeRollout(), 0, [])).rejects.toThrow('stable TG has 0/3 new pods healthy');
    expect(seen.map((q) => [q.desiredWeight, q.services, q.maxWeight])).toEqual([[0, { stable: 'stable-svc', canary: 'canary-svc', action: 'stable-svc', pingPong: false }, 100]]);
  });

  it('a passing guard lets the write through', async () => {
    const api = new Api().get(makeIngress({ weight: 100 })).patch('ingress');
    await router({ guard: { beforeSetWeight: async () => ({ hold: false }) } }).r.setWeight(makeRollout(), 0, []);
    expect(api.patches).toHaveLength(1);
  });

  it('VerifyWeight without a verifier is NotImplemented and makes no request', async () => {
    expect(await router().r.verifyWeight(makeRollout(), 10, [])).toEqual({ verified: RpcVerified.NotImplemented });
  });

  it('VerifyWeight hands the verifier the same view SetWeight uses', async () => {
    const seen: WeightRequest[] = [];
    const { r } = router({ verifier: { verifyWeight: async (req) => (seen.push(req), { verified: RpcVerified.Verified }) } });
    const ro = makeRollout({ maxTrafficWeight: 200, plugin: { ingress: 'ingress', servicePort: 80, rootService: 'root' }, pingPong: { pingService: 'ping', pongService: 'pong' }, stablePingPong: 'ping' });
    expect(await r.verifyWeight(ro, 30, [{ serviceName: 'ex', weight: 5 }])).toEqual({ verified: RpcVerified.Verified });
    expect(seen[0]).toMatchObject({
      desiredWeight: 30,
      maxWeight: 200,
      additionalDestinations: [{ serviceName: 'ex', weight: 5 }],
      services: { stable: 'ping', canary: 'pong', action: 'root', pingPong: true },
      config: { ingresses: [{ name: 'ingress', servicePort: 80 }] },
    });
  });

  it('UpdateHash is a no-op', async () => {
    await router().r.updateHash(makeRollout(), 'a', 'b', []);
  });
});

describe('conflicts', () => {
  it('409 → fresh read → plan recomputed from it → success', async () => {
    const first = makeIngress({ resourceVersion: '1' });
    const second = makeIngress({ resourceVersion: '2' });
    second.metadata.annotations = { [`${PREFIX}/actions.other`]: 'x', [MANAGED]: `{"other":["${PREFIX}/actions.other"]}` };
    const api = new Api().get(first).patch('ingress', 409, 'the object has been modified').get(second).patch('ingress');
    let conflicts = 0;
    const { r } = router({ ingresses: createIngressClient(fakeKubeConfig(base), { onConflict: () => conflicts++ }) });
    await r.setWeight(makeRollout(), 10, []);
    const want = action('canary-svc', 'stable-svc', 443, 10);
    expect(api.patches.map((p) => p.body)).toEqual([
      body({ [ACTION]: want, [MANAGED]: `{"rollout":["${ACTION}"]}` }, '1'),
      body({ [ACTION]: want, [MANAGED]: `{"other":["${PREFIX}/actions.other"],"rollout":["${ACTION}"]}` }, '2'),
    ]);
    expect(conflicts).toBe(1);
  });

  it('bounded: gives up with a clear error when conflicts persist', async () => {
    const api = new Api();
    for (let i = 0; i < 2; i++) api.get(makeIngress({ resourceVersion: String(i + 1) })).patch('ingress', 409, 'modified');
    const { r } = router({ maxConflictAttempts: 2 });
    await expect(r.setWeight(makeRollout(), 10, [])).rejects.toThrow('ingress `ingress`: still conflicting after 2 attempts');
    expect(api.patches).toHaveLength(2);
  });

  it('two Rollouts interleaving on one Ingress keep each other\'s keys', async () => {
    const shared = makeIngress({ actionService: 'stable-a' });
    shared.spec!.rules![0]!.http!.paths.push({ path: '/b', pathType: 'Prefix', backend: { service: { name: 'stable-b', port: { name: 'use-annotation' } } } });
    const store = new FakeIngressStore(base, shared);
    // Both read version 1 before either writes; one PATCH wins, the other gets 409, re-reads and re-plans.
    store.intercept({ gets: 3, patches: 3, holdGets: 2 });
    const a = makeRollout({ name: 'rollout-a', stable: 'stable-a', canary: 'canary-a' });
    const b = makeRollout({ name: 'rollout-b', stable: 'stable-b', canary: 'canary-b' });
    const { r } = router();
    await Promise.all([r.setWeight(a, 10, []), r.setWeight(b, 30, [])]);
    const ka = `${PREFIX}/actions.stable-a`;
    const kb = `${PREFIX}/actions.stable-b`;
    expect(store.ingress.metadata.annotations).toEqual({
      [ka]: action('canary-a', 'stable-a', 443, 10),
      [kb]: action('canary-b', 'stable-b', 443, 30),
      [MANAGED]: `{"rollout-a":["${ka}"],"rollout-b":["${kb}"]}`,
    });
    expect(store.requests.map((q) => q.method)).toEqual(['GET', 'GET', 'PATCH', 'PATCH', 'GET', 'PATCH']);
    expect(store.ingress.metadata.resourceVersion).toBe('3');
  });

  it('an Ingress read without resourceVersion is never written unguarded', async () => {
    const ingress = makeIngress();
    delete ingress.metadata.resourceVersion;
    const api = new Api().get(ingress);
    await expect(router().r.setWeight(makeRollout(), 10, [])).rejects.toThrow(/without metadata.resourceVersion; refusing an unguarded write/);
    expect(api.patches).toEqual([]);
  });

  it('a second Rollout claiming the same action key is refused', async () => {
    const api = new Api().get(makeIngress({ weight: 10, managedBy: 'first' }));
    await expect(router().r.setWeight(makeRollout({ name: 'second' }), 10, [])).rejects.toThrow(/already managed by Rollout "first"/);
    expect(api.patches).toEqual([]);
  });
});
