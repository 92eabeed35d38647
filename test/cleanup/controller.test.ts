// Cleanup cases at the HTTP wire level: the real Ingress client (client-node) talks to a nock API server, and
// each case checks the exact merge patch sent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { createIngressClient } from '../../src/k8s/ingress-client.js';
import { testCleanup } from '../support/cleanup.js';
import { createReleaser } from '../../src/modes/ingress/releaser.js';
import type { ReleaseOutcome } from '../../src/plugin/mode.js';
import { gatewayRouteCleanup } from '../../src/modes/gateway/cleanup.js';
import { createHTTPRouteClient, listAllRoutes } from '../../src/modes/gateway/client.js';
import { applyJsonPatch, type JsonPatchOp } from '../../src/modes/gateway/json-patch.js';
import type { HTTPRoute } from '../../src/modes/gateway/route/model.js';
import { OWNED_ANNOTATION } from '../../src/modes/gateway/route/ownership.js';
import { createGatewayRouter } from '../../src/modes/gateway/router.js';
import type { Ingress } from '../../src/k8s/ingress.js';
import type { Rollout } from '../../src/core/rollout.js';
import { API, fakeIngressApi, fwd, ingress, kubeConfig, MANAGED, NS, P, path, PLUGIN, rollout } from './fixtures.js';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

function setup(ingresses: Ingress[], opts: { patchStatuses?: number[]; readRollout?: (ns: string, name: string) => Promise<Rollout | undefined> } = {}) {
  const api = fakeIngressApi(ingresses, opts);
  const outcomes: ReleaseOutcome[] = [];
  const deleted: string[] = [];
  const controller = testCleanup({
    pluginName: PLUGIN,
    albIngressClasses: ['alb'],
    releaser: createReleaser({ ingresses: createIngressClient(kubeConfig()), onOutcome: (o) => outcomes.push(o) }),
    onDeleted: (r) => deleted.push(r.metadata.name),
    ...(opts.readRollout ? { readRollout: opts.readRollout } : {}),
  });
  return { controller, patches: api.patches, outcomes, deleted };
}

const managed = (m: Record<string, string[]>) => JSON.stringify(m);
const key = (svc: string) => `${P}/actions.${svc}`;
const cond = (svc: string) => `${P}/conditions.${svc}`;

interface Case {
  name: string;
  rollouts: Rollout[];
  deleted: string;
  ingress: Ingress;
  annotations: Record<string, string | null>;
  rules?: unknown[];
}

const cases: Case[] = [
  {
    name: 'plain: action back to 100 % stable, managed key removed',
    rollouts: [rollout()],
    deleted: 'web',
    ingress: ingress(
      'app',
      { [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]), [MANAGED]: managed({ web: [key('app-stable')] }), 'example.com/owner': 'team-a' },
      [path('app-stable')],
    ),
    annotations: { [key('app-stable')]: fwd(['app-stable', 80, 100]), [MANAGED]: null },
  },
  {
    name: 'rootService: the root key gets 100 % on the stable service (Argo finds no port and gives up)',
    rollouts: [rollout({ rootService: 'app-root' })],
    deleted: 'web',
    ingress: ingress(
      'app',
      { [key('app-root')]: fwd(['app-canary', 80, 40], ['app-stable', 80, 60]), [MANAGED]: managed({ web: [key('app-root')] }) },
      [path('app-root')],
    ),
    annotations: { [key('app-root')]: fwd(['app-stable', 80, 100]), [MANAGED]: null },
  },
  {
    name: 'ping-pong, ping stable: 100 % on ping',
    rollouts: [rollout({ rootService: 'app-root', pingPong: true, stablePingPong: 'ping' })],
    deleted: 'web',
    ingress: ingress(
      'app',
      { [key('app-root')]: fwd(['app-pong', 80, 25], ['app-ping', 80, 75]), [MANAGED]: managed({ web: [key('app-root')] }) },
      [path('app-root')],
    ),
    annotations: { [key('app-root')]: fwd(['app-ping', 80, 100]), [MANAGED]: null },
  },
  {
    name: 'ping-pong, pong stable: 100 % on pong (the role in status decides, not the key)',
    rollouts: [rollout({ rootService: 'app-root', pingPong: true, stablePingPong: 'pong' })],
    deleted: 'web',
    ingress: ingress(
      'app',
      { [key('app-root')]: fwd(['app-ping', 80, 25], ['app-pong', 80, 75]), [MANAGED]: managed({ web: [key('app-root')] }) },
      [path('app-root')],
    ),
    annotations: { [key('app-root')]: fwd(['app-pong', 80, 100]), [MANAGED]: null },
  },
  {
    name: 'header route present: its action, condition and inserted path go',
    rollouts: [rollout({ managedRoutes: ['beta-users'] })],
    deleted: 'web',
    ingress: ingress(
      'app',
      {
        [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]),
        [key('beta-users')]: fwd(['app-canary', 80, 100]),
        [cond('beta-users')]: '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"X-Beta","Values":["true"]}}]',
        [MANAGED]: managed({ web: [key('app-stable'), key('beta-users'), cond('beta-users')] }),
      },
      [path('beta-users'), path('app-stable')],
    ),
    annotations: { [key('app-stable')]: fwd(['app-stable', 80, 100]), [key('beta-users')]: null, [cond('beta-users')]: null, [MANAGED]: null },
    rules: [{ host: 'shop.example.com', http: { paths: [path('app-stable')] } }],
  },
  {
    name: "two Rollouts on one Ingress: only the deleted one's keys change",
    rollouts: [rollout(), rollout({ name: 'api', stable: 'api-stable', canary: 'api-canary' })],
    deleted: 'web',
    ingress: ingress(
      'app',
      {
        [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]),
        [key('api-stable')]: fwd(['api-canary', 80, 50], ['api-stable', 80, 50]),
        [MANAGED]: managed({ api: [key('api-stable')], web: [key('app-stable')] }),
      },
      [path('app-stable', '/web/*'), path('api-stable', '/api/*')],
    ),
    annotations: { [key('app-stable')]: fwd(['app-stable', 80, 100]), [MANAGED]: managed({ api: [key('api-stable')] }) },
  },
];

describe('deleted Rollout', () => {
  it.each(cases)('$name', async (c) => {
    const { controller, patches, outcomes, deleted } = setup([c.ingress]);
    for (const r of c.rollouts) expect(await controller.upsert(r)).toEqual([]);
    const gone = c.rollouts.find((r) => r.metadata.name === c.deleted)!;
    expect(await controller.remove(gone)).toEqual(['released']);
    expect(patches).toEqual([
      {
        ingress: 'app',
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: '41', annotations: c.annotations }, ...(c.rules ? { spec: { rules: c.rules } } : {}) },
      },
    ]);
    expect(outcomes).toEqual(['released']);
    expect(deleted).toEqual([c.deleted]);
  });

  it('uses the last seen state when the deleted object carries an unreadable plugin block', async () => {
    const ing = ingress('app', { [key('app-stable')]: fwd(['app-canary', 80, 5], ['app-stable', 80, 95]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]);
    const { controller, patches } = setup([ing]);
    await controller.upsert(rollout());
    const broken = rollout();
    (broken.spec.strategy.canary!.trafficRouting!.plugins![PLUGIN] as Record<string, unknown>).servicePort = 'eighty';
    expect(await controller.upsert(broken)).toEqual([]);
    expect(await controller.remove(broken)).toEqual(['released']);
    expect(patches[0]!.body.metadata.annotations[key('app-stable')]).toBe(fwd(['app-stable', 80, 100]));
  });

  it('re-reads and recomputes after a 409 Conflict', async () => {
    const ing = ingress('app', { [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]);
    const { controller, patches } = setup([ing], { patchStatuses: [409] });
    await controller.upsert(rollout());
    expect(await controller.remove(rollout())).toEqual(['released']);
    expect(patches.map((p) => p.body.metadata.resourceVersion)).toEqual(['41', '42']);
  });

  it('does nothing when the Ingress is already gone', async () => {
    const { controller, patches } = setup([]);
    await controller.upsert(rollout());
    expect(await controller.remove(rollout())).toEqual(['ingress_gone']);
    expect(patches).toEqual([]);
  });

  it('writes nothing when the Ingress holds nothing of the Rollout', async () => {
    const ing = ingress('app', { [key('api-stable')]: fwd(['api-stable', 80, 100]), [MANAGED]: managed({ api: [key('api-stable')] }) }, [path('api-stable')]);
    const { controller, patches } = setup([ing]);
    expect(await controller.remove(rollout())).toEqual(['unchanged']);
    expect(patches).toEqual([]);
  });
});

describe('Rollout stops naming an Ingress', () => {
  const appIng = () => ingress('app', { [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]);
  const internal = () =>
    ingress('app-internal', { [key('app-stable')]: fwd(['app-canary', 8080, 20], ['app-stable', 8080, 80]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]);

  it.each<{ name: string; after: Rollout; released: string[] }>([
    { name: 'one of two Ingresses dropped', after: rollout({ ingresses: ['app'] }), released: ['app-internal'] },
    { name: 'plugin block removed', after: rollout({ plugin: 'someone-else/router' }), released: ['app', 'app-internal'] },
    { name: 'nothing dropped', after: rollout({ ingresses: ['app', { name: 'app-internal', servicePort: 8080 }] }), released: [] },
  ])('$name', async ({ after, released }) => {
    const { controller, patches } = setup([appIng(), internal()]);
    await controller.upsert(rollout({ ingresses: ['app', { name: 'app-internal', servicePort: 8080 }] }));
    await controller.upsert(after);
    expect(patches.map((p) => p.ingress).sort()).toEqual(released);
    const internalPatch = patches.find((p) => p.ingress === 'app-internal');
    if (internalPatch) expect(internalPatch.body.metadata.annotations[key('app-stable')]).toBe(fwd(['app-stable', 8080, 100]));
  });

  it('moving back to the built-in trafficRouting.alb (issue 12.1) drops only our entry: the action and header routes stay Argo\'s', async () => {
    const ing = ingress(
      'app',
      {
        [key('app-stable')]: fwd(['app-canary', 80, 0], ['app-stable', 80, 100]),
        [key('beta-users')]: fwd(['app-canary', 80, 100]),
        [cond('beta-users')]: '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"X-Beta","Values":["true"]}}]',
        [MANAGED]: managed({ web: [key('app-stable'), key('beta-users'), cond('beta-users')] }),
      },
      [path('beta-users'), path('app-stable')],
    );
    const { controller, patches } = setup([ing]);
    const before = rollout({ managedRoutes: ['beta-users'] });
    await controller.upsert(before);
    const back: Rollout = structuredClone(before);
    const tr = back.spec.strategy.canary!.trafficRouting as Record<string, unknown>;
    delete tr.plugins;
    tr.alb = { ingress: 'app', servicePort: 80 };
    expect(await controller.upsert(back)).toEqual(['released']);
    expect(patches.map((p) => [p.ingress, p.body.metadata.annotations, p.body.spec])).toEqual([['app', { [MANAGED]: null }, undefined]]);
  });

  it('an unreadable plugin block (user mid-edit) releases nothing', async () => {
    const { controller, patches } = setup([appIng()]);
    await controller.upsert(rollout());
    const broken = rollout();
    delete (broken.spec.strategy.canary as Record<string, unknown>).stableService;
    expect(await controller.upsert(broken)).toEqual([]);
    expect(patches).toEqual([]);
  });
});

describe('sweep', () => {
  it('releases entries of Rollouts that are gone, or that no longer name the Ingress, and nothing else', async () => {
    const ingresses = [
      // ghost was deleted while the sidecar was down; web still names this Ingress.
      ingress(
        'app',
        {
          [key('ghost-root')]: fwd(['ghost-canary', 80, 10], ['ghost-stable', 80, 90]),
          [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]),
          [MANAGED]: managed({ ghost: [key('ghost-root')], web: [key('app-stable')] }),
        },
        [path('ghost-root'), path('app-stable')],
      ),
      // Not an ALB class: never touched.
      ingress('nginx-app', { [key('ghost-root')]: fwd(['ghost-stable', 80, 100]), [MANAGED]: managed({ ghost: [key('ghost-root')] }) }, [path('ghost-root')], 'nginx'),
      // legacy went back to Argo's built-in trafficRouting.alb: only our bookkeeping entry goes, the action is Argo's.
      ingress('legacy', { [key('legacy-stable')]: fwd(['legacy-canary', 80, 0], ['legacy-stable', 80, 100]), [MANAGED]: managed({ legacy: [key('legacy-stable')] }) }, [path('legacy-stable')]),
      // web used to name this one too.
      ingress('old', { [key('app-stable')]: fwd(['app-canary', 443, 20], ['app-stable', 443, 80]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]),
      // Unreadable bookkeeping: skipped, not guessed at.
      ingress('broken', { [MANAGED]: 'not json' }, [path('x')]),
    ];
    const { controller, patches } = setup(ingresses);
    const legacy: Rollout = {
      metadata: { name: 'legacy', namespace: NS },
      spec: { strategy: { canary: { stableService: 'legacy-stable', canaryService: 'legacy-canary', trafficRouting: { alb: { ingress: 'legacy', servicePort: 80 } } } } },
    };
    await controller.upsert(rollout());
    await controller.upsert(legacy);
    expect((await controller.sweep(ingresses)).sort()).toEqual(['released', 'released', 'released']);
    expect(patches.map((p) => [p.ingress, p.body.metadata.annotations]).sort()).toEqual([
      ['app', { [key('ghost-root')]: fwd(['ghost-stable', 80, 100]), [MANAGED]: managed({ web: [key('app-stable')] }) }],
      ['legacy', { [MANAGED]: null }],
      ['old', { [key('app-stable')]: fwd(['app-stable', 443, 100]), [MANAGED]: null }],
    ]);
  });

  it('retries a release that failed at deletion time with the remembered target', async () => {
    const ing = ingress('app', { [key('app-root')]: fwd(['app-ping', 80, 25], ['app-pong', 80, 75]), [MANAGED]: managed({ web: [key('app-root')] }) }, [path('app-root')]);
    const failing = nock(API).get(`/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/app`).reply(500, { kind: 'Status', code: 500, message: 'etcdserver: request timed out' });
    const { controller, patches, outcomes } = setup([ing]);
    const web = rollout({ rootService: 'app-root', pingPong: true, stablePingPong: 'pong' });
    await controller.upsert(web);
    expect(await controller.remove(web)).toEqual(['error']);
    failing.done();
    expect(await controller.sweep([ing])).toEqual(['released']);
    expect(patches[0]!.body.metadata.annotations).toEqual({ [key('app-root')]: fwd(['app-pong', 80, 100]), [MANAGED]: null });
    expect(outcomes).toEqual(['error', 'released']);
  });
});

describe('sweep confirms with the API server before releasing', () => {
  const entry = () =>
    ingress('app', { [key('new-stable')]: fwd(['new-canary', 80, 0], ['new-stable', 80, 100]), [MANAGED]: managed({ fresh: [key('new-stable')] }) }, [path('new-stable')]);

  it.each<{ name: string; read: (ns: string, name: string) => Promise<Rollout | undefined>; outcome: ReleaseOutcome; patched: boolean }>([
    {
      name: 'a Rollout created a moment ago, not yet seen by the watch, is kept',
      read: async () => rollout({ name: 'fresh', stable: 'new-stable', canary: 'new-canary' }),
      outcome: 'unchanged',
      patched: false,
    },
    {
      name: 'an unreadable Rollout is left for the next sweep',
      read: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      outcome: 'unchanged',
      patched: false,
    },
    { name: 'a Rollout the API server does not have is released', read: async () => undefined, outcome: 'released', patched: true },
  ])('$name', async ({ read, outcome, patched }) => {
    const ing = entry();
    const { controller, patches } = setup([ing], { readRollout: read });
    expect(await controller.sweep([ing])).toEqual([outcome]);
    expect(patches.length > 0).toBe(patched);
  });
});

describe('Gateway mode', () => {
  const routeUrl = (name: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes/${name}`;
  const gwRollout = (block: Record<string, unknown> = { httpRoute: 'app' }): Rollout => {
    const r = rollout({ managedRoutes: ['beta'] });
    r.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: block };
    return r;
  };
  const httpRoute = (): HTTPRoute => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'app', namespace: NS, resourceVersion: '7' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        {
          name: 'main',
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ name: 'app-stable', port: 80, weight: 70 }, { name: 'app-canary', port: 80, weight: 30 }],
        },
      ],
    },
  });

  /** The route after a release: the Rollout's rules gone, 100 % on stable (as Ingress mode's release does). */
  const releasedRules = () =>
    httpRoute().spec.rules!.map((r) => ({ ...r, backendRefs: [{ name: 'app-stable', port: 80, weight: 100 }, { name: 'app-canary', port: 80, weight: 0 }] }));

  /** A stateful HTTPRoute `app` (GET, JSON patch); `missing` answers 404 for every route. */
  function serveRoute(start: HTTPRoute | undefined) {
    let current = start && structuredClone(start);
    const patches: JsonPatchOp[][] = [];
    let failing = 0;
    nock(API)
      .persist()
      .get(new RegExp(`^${routeUrl('[^/?]+')}$`))
      .reply((uri) =>
        failing > 0 && failing--
          ? [500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, message: 'etcdserver: request timed out' }]
          : current && uri.endsWith('/app')
          ? [200, current]
          : [404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'httproutes.gateway.networking.k8s.io not found' }],
      )
      .patch(routeUrl('app'))
      .reply((_uri, body) => {
        const ops = (typeof body === 'string' ? JSON.parse(body) : body) as JsonPatchOp[];
        patches.push(ops);
        const next = structuredClone(current!);
        applyJsonPatch(next, ops);
        next.metadata.resourceVersion = String(Number(current!.metadata.resourceVersion) + 1);
        current = next;
        return [200, current];
      });
    return { patches, now: () => current!, failGets: (n: number) => (failing = n) };
  }

  function gwSetup(ingresses: Ingress[] = [], readRollout?: (ns: string, name: string) => Promise<Rollout | undefined>, sweepRoutes = false) {
    const base = setup(ingresses);
    const router = createGatewayRouter({ routes: createHTTPRouteClient(kubeConfig()), pluginName: PLUGIN });
    const routeOutcomes: ReleaseOutcome[] = [];
    const controller = testCleanup({
      pluginName: PLUGIN,
      albIngressClasses: ['alb'],
      releaser: createReleaser({ ingresses: createIngressClient(kubeConfig()), onOutcome: (o) => base.outcomes.push(o) }),
      gatewayRoutes: gatewayRouteCleanup({
        pluginName: PLUGIN,
        release: (r) => router.release(r),
        onOutcome: (o) => routeOutcomes.push(o),
        ...(sweepRoutes ? { listRoutes: listAllRoutes(kubeConfig(), 'HTTPRoute'), releaseOwner: (ref, owner) => router.releaseOwner(ref, owner) } : {}),
      }),
      ...(readRollout ? { readRollout } : {}),
    });
    return { ...base, controller, router, routeOutcomes };
  }

  it('a Rollout that moves from Ingress mode to Gateway mode releases the Ingresses it held', async () => {
    const ing = ingress('app', { [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]);
    const { controller, patches, routeOutcomes } = gwSetup([ing]);
    await controller.upsert(rollout());
    expect(await controller.upsert(gwRollout())).toEqual(['released']);
    expect(patches.map((p) => [p.ingress, p.body.metadata.annotations])).toEqual([['app', { [key('app-stable')]: fwd(['app-stable', 80, 100]), [MANAGED]: null }]]);
    // Still in Gateway mode: nothing more to release, and no HTTPRoute is touched by an update.
    expect(await controller.upsert(gwRollout())).toEqual([]);
    expect(routeOutcomes).toEqual([]);
  });

  it('the sweep releases an entry left on an Ingress by a Rollout now in Gateway mode', async () => {
    const ing = ingress('app', { [key('app-stable')]: fwd(['app-canary', 80, 20], ['app-stable', 80, 80]), [MANAGED]: managed({ web: [key('app-stable')] }) }, [path('app-stable')]);
    const { controller, patches } = gwSetup([ing]);
    await controller.upsert(gwRollout());
    expect(await controller.sweep([ing])).toEqual(['released']);
    expect(patches[0]!.body.metadata.annotations).toEqual({ [key('app-stable')]: fwd(['app-stable', 80, 100]), [MANAGED]: null });
  });

  it("a deleted Gateway-mode Rollout's header-route rules leave its HTTPRoute, the weights go back to stable, other rules stay", async () => {
    const api = serveRoute(httpRoute());
    const { controller, router, routeOutcomes } = gwSetup();
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['main', 'argo-web-beta']);
    expect(await controller.upsert(gwRollout())).toEqual([]);
    expect(await controller.remove(gwRollout())).toEqual(['released']);
    expect(api.now().spec.rules).toEqual(releasedRules());
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    expect(routeOutcomes).toEqual(['released']);
  });

  it.each<{ name: string; after: () => Rollout; released: boolean }>([
    { name: 'back to Ingress mode: the header-route rules leave the HTTPRoute', after: () => rollout({ managedRoutes: ['beta'], ingresses: ['other'] }), released: true },
    { name: 'plugin block removed: the same', after: () => rollout({ managedRoutes: ['beta'], plugin: 'someone-else/router' }), released: true },
    { name: 'still Gateway mode: nothing released', after: () => gwRollout(), released: false },
    {
      name: 'an unreadable Ingress block (mid-edit): nothing released',
      after: () => {
        const r = rollout({ managedRoutes: ['beta'] });
        (r.spec.strategy.canary!.trafficRouting!.plugins![PLUGIN] as Record<string, unknown>).servicePort = 'eighty';
        return r;
      },
      released: false,
    },
  ])('a Rollout that leaves Gateway mode, $name', async ({ after, released }) => {
    const api = serveRoute(httpRoute());
    const { controller, router, routeOutcomes } = gwSetup([ingress('other', {}, [path('app-stable')])]);
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await controller.upsert(gwRollout());
    await controller.upsert(after());
    expect(routeOutcomes).toEqual(released ? ['released'] : []);
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(released ? ['main'] : ['main', 'argo-web-beta']);
  });

  it('a Rollout re-pointed to another HTTPRoute releases the route it no longer names (issue #21); an unreadable new block releases nothing', async () => {
    const api = serveRoute(httpRoute());
    const { controller, router, routeOutcomes } = gwSetup();
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await controller.upsert(gwRollout());
    // Mid-edit: the new block cannot be read; nothing is concluded.
    await controller.upsert(gwRollout({ httpRoute: 42 }));
    expect(routeOutcomes).toEqual([]);
    await controller.upsert(gwRollout());
    await controller.upsert(gwRollout({ httpRoute: 'other' }));
    expect(routeOutcomes).toEqual(['released']);
    expect(api.now().spec.rules).toEqual(releasedRules());
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    // Pointed at the same route again: nothing more to release.
    await controller.upsert(gwRollout({ httpRoutes: ['other'] }));
    expect(routeOutcomes).toEqual(['released']);
  });

  it('a Rollout moved from an HTTPRoute to the GRPCRoute of the same name releases the HTTPRoute (a route is its kind, namespace and name)', async () => {
    const api = serveRoute(httpRoute());
    const { controller, router, routeOutcomes } = gwSetup();
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await controller.upsert(gwRollout());
    await controller.upsert(gwRollout({ grpcRoute: 'app' }));
    expect(routeOutcomes).toEqual(['released']);
    expect(api.now().spec.rules).toEqual(releasedRules());
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('uses the last seen Gateway-mode state when the deleted object carries an unreadable plugin block', async () => {
    const api = serveRoute(httpRoute());
    const { controller, router } = gwSetup();
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await controller.upsert(gwRollout());
    const broken = rollout({ managedRoutes: ['beta'], ingresses: [] });
    (broken.spec.strategy.canary!.trafficRouting!.plugins![PLUGIN] as Record<string, unknown>).servicePort = 'eighty';
    expect(await controller.remove(broken)).toEqual(['released']);
    expect(api.now().spec.rules).toEqual(releasedRules());
  });

  it('a release that failed (Kubernetes error) is tried again at the next sweep', async () => {
    const api = serveRoute(httpRoute());
    const { controller, router, routeOutcomes } = gwSetup([], async () => undefined);
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await controller.upsert(gwRollout());
    api.failGets(10);
    expect(await controller.remove(gwRollout())).toEqual(['error']);
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['main', 'argo-web-beta']);
    api.failGets(0);
    expect(await controller.sweep([])).toEqual(['released']);
    expect(api.now().spec.rules).toEqual(releasedRules());
    expect(routeOutcomes).toEqual(['error', 'released']);
    // Done: the next sweep has nothing left to retry.
    expect(await controller.sweep([])).toEqual([]);
  });

  it('a failed release is dropped when the API server has the Rollout in Gateway mode again (created anew)', async () => {
    const api = serveRoute(httpRoute());
    const { controller, router } = gwSetup([], async () => gwRollout());
    await router.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await controller.upsert(gwRollout());
    api.failGets(10);
    expect(await controller.remove(gwRollout())).toEqual(['error']);
    api.failGets(0);
    expect(await controller.sweep([])).toEqual([]);
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['main', 'argo-web-beta']);
  });

  /** The cluster-wide list of HTTPRoutes, in pages of one (an empty first page, then `route()`); 404 when `missing`. */
  function serveRouteList(route: () => HTTPRoute | undefined, missing = false) {
    const pages: string[] = [];
    nock(API)
      .persist()
      .get((uri) => uri.startsWith('/apis/gateway.networking.k8s.io/v1/httproutes?'))
      .reply((uri) => {
        const q = new URL(uri, API).searchParams;
        pages.push(`${q.get('limit')}:${q.get('continue') ?? ''}`);
        if (missing) return [404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }];
        const r = route();
        return q.get('continue') === 'page2'
          ? [200, { kind: 'HTTPRouteList', apiVersion: 'gateway.networking.k8s.io/v1', metadata: {}, items: r ? [r] : [] }]
          : [200, { kind: 'HTTPRouteList', apiVersion: 'gateway.networking.k8s.io/v1', metadata: { continue: 'page2' }, items: [] }];
      });
    return pages;
  }

  it('a Rollout deleted while no sidecar watched (issue #21): the sweep lists the HTTPRoutes and releases its entry from what it records', async () => {
    const api = serveRoute(httpRoute());
    const pages = serveRouteList(() => api.now());
    const writer = createGatewayRouter({ routes: createHTTPRouteClient(kubeConfig()), pluginName: PLUGIN });
    await writer.setWeight(gwRollout(), 30, []);
    await writer.setHeaderRoute(gwRollout(), { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['main', 'argo-web-beta']);
    // A sidecar started after the deletion: it never saw the Rollout, and the API server no longer has it.
    const { controller, routeOutcomes } = gwSetup([], async () => undefined, true);
    expect(await controller.sweep([])).toEqual(['released']);
    expect(pages).toEqual(['500:', '500:page2']);
    expect(api.now().spec.rules).toEqual(releasedRules());
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    expect(routeOutcomes).toEqual(['released']);
    // Nothing left: the next sweep writes nothing.
    const writes = api.patches.length;
    expect(await controller.sweep([])).toEqual([]);
    expect(api.patches).toHaveLength(writes);
  });

  it('the sweep keeps the entry of a Rollout the API server still has in Gateway mode on that route, even one the watch has not seen', async () => {
    const api = serveRoute(httpRoute());
    serveRouteList(() => api.now());
    await createGatewayRouter({ routes: createHTTPRouteClient(kubeConfig()), pluginName: PLUGIN }).setWeight(gwRollout(), 30, []);
    const { controller } = gwSetup([], async () => gwRollout(), true);
    const writes = api.patches.length;
    expect(await controller.sweep([])).toEqual(['unchanged']);
    expect(api.patches).toHaveLength(writes);
    expect(api.now().spec.rules![0]!.backendRefs!.map((b) => b.weight)).toEqual([70, 30]);
  });

  it('without the Gateway API (the list is 404) the sweep reads no route and writes nothing', async () => {
    serveRouteList(() => undefined, true);
    const { controller, routeOutcomes } = gwSetup([], async () => undefined, true);
    expect(await controller.sweep([])).toEqual([]);
    expect(routeOutcomes).toEqual([]);
  });

  it('a route already deleted holds nothing: released without a write; an unreadable httpRoute block is an error', async () => {
    const api = serveRoute(undefined);
    const { controller } = gwSetup();
    expect(await controller.remove(gwRollout({ httpRoutes: ['gone', 'app'] }))).toEqual(['released']);
    expect(api.patches).toEqual([]);
    expect(await controller.remove(gwRollout({ httpRoute: 42 }))).toEqual(['error']);
  });
});
