// Gateway mode's router at the HTTP wire level: what it reads and the JSON patches it sends to the API server
// (nock stands in for it), the retry on 422/409 from a fresh read, and the call's signal.
import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../../src/core/rollout.js';
import { createHTTPRouteClient } from '../../../src/modes/gateway/client.js';
import { applyJsonPatch, type JsonPatchOp } from '../../../src/modes/gateway/json-patch.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';
import { OWNED_ANNOTATION } from '../../../src/modes/gateway/route/ownership.js';
import { createGatewayRouter } from '../../../src/modes/gateway/router.js';
import type { CallContext } from '../../../src/plugin/call.js';
import { fakeKubeConfig, jsonBody, useNockedApiServer } from '../../k8s/fake-cluster.js';

const PLUGIN = 'argoproj-labs/alb';
const json = { 'content-type': 'application/json' };
const JSON_PATCH = 'application/json-patch+json';
const routePath = (ns: string, name: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes/${name}`;

const apiServer = useNockedApiServer();
let base: string;
beforeAll(() => {
  base = apiServer();
});

function rollout(block: Record<string, unknown> = { httpRoute: 'shop' }, extra: Record<string, unknown> = {}): Rollout {
  return {
    metadata: { name: 'shop', namespace: 'apps', uid: 'u1' },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { [PLUGIN]: block }, managedRoutes: [{ name: 'beta' }, { name: 'Gamma' }] },
          ...extra,
        },
      },
    },
  };
}

function route(rv = '41', rules?: HTTPRoute['spec']['rules'], annotations?: Record<string, string>): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'shop', namespace: 'apps', resourceVersion: rv, ...(annotations ? { annotations } : {}) },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: rules ?? [
        { name: 'api', matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'api', port: 80 }] },
        {
          name: 'main',
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          filters: [
            { type: 'ExtensionRef', extensionRef: { group: 'gateway.k8s.aws', kind: 'ListenerRuleConfiguration', name: 'auth' } },
            { type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x', value: 'y' }] } },
          ],
          backendRefs: [{ name: 'shop-stable', port: 80 }, { name: 'shop-canary', port: 80, weight: 0 }],
        },
      ],
    },
  };
}

/** A stateful stand-in for one HTTPRoute: GET returns it, PATCH applies the JSON patch (a failed test: 422). */
function serveRoute(start: HTTPRoute, opts: { beforePatch?: (r: HTTPRoute) => void } = {}) {
  let current = structuredClone(start);
  const patches: JsonPatchOp[][] = [];
  nock(base)
    .persist()
    .get(routePath('apps', 'shop'))
    .optionally()
    .reply(() => [200, current, json])
    .patch(routePath('apps', 'shop'))
    .optionally()
    .reply(function (this: nock.ReplyFnContext, _uri, body) {
      expect(this.req.headers['content-type']).toBe(JSON_PATCH);
      const ops = jsonBody(body) as JsonPatchOp[];
      patches.push(ops);
      opts.beforePatch?.(current);
      const next = structuredClone(current);
      try {
        applyJsonPatch(next, ops);
      } catch (err) {
        return [422, { kind: 'Status', code: 422, reason: 'Invalid', message: (err as Error).message }, json];
      }
      next.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
      current = next;
      return [200, current, json];
    });
  return { patches, now: () => current, set: (r: HTTPRoute) => (current = r) };
}

const router = () => createGatewayRouter({ routes: createHTTPRouteClient(fakeKubeConfig(base)), pluginName: PLUGIN });

describe('Gateway mode SetWeight', () => {
  it('writes only the weights of the stable and canary backendRefs, tested by resourceVersion and name', async () => {
    const api = serveRoute(route());
    await router().setWeight(rollout(), 20, []);
    expect(api.patches).toEqual([
      [
        { op: 'test', path: '/metadata/resourceVersion', value: '41' },
        { op: 'test', path: '/spec/rules/1/backendRefs/1/name', value: 'shop-canary' },
        { op: 'replace', path: '/spec/rules/1/backendRefs/1/weight', value: 20 },
        { op: 'test', path: '/spec/rules/1/backendRefs/0/name', value: 'shop-stable' },
        { op: 'add', path: '/spec/rules/1/backendRefs/0/weight', value: 80 },
        // Weights off stable are a hold: recorded with what a release needs without the Rollout (issue #21).
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { [OWNED_ANNOTATION]: JSON.stringify({ 'apps/shop': { rules: {}, backends: [], shifted: true, release: { stable: 'shop-stable', canary: 'shop-canary' } } }) },
        },
      ],
    ]);
    const after = api.now().spec.rules!;
    expect(after[1]!.backendRefs).toEqual([{ name: 'shop-stable', port: 80, weight: 80 }, { name: 'shop-canary', port: 80, weight: 20 }]);
    // Nothing else changed: the other rule, the filters, the matches.
    expect({ ...api.now(), metadata: {}, spec: { ...api.now().spec, rules: [after[0], { ...after[1], backendRefs: [] }] } }).toEqual({
      ...route(),
      metadata: {},
      spec: { ...route().spec, rules: [route().spec.rules![0], { ...route().spec.rules![1], backendRefs: [] }] },
    });
  });

  it('sends no patch when the weights are already there', async () => {
    const api = serveRoute(route());
    await router().setWeight(rollout(), 20, []);
    await router().setWeight(rollout(), 20, []);
    expect(api.patches).toHaveLength(1);
  });

  it("a nil list of additional destinations (Go's nil slice) is no experiment", async () => {
    const api = serveRoute(route());
    await router().setWeight(rollout(), 20, null as never);
    expect(api.now().spec.rules![1]!.backendRefs!.map((b) => b.weight)).toEqual([80, 20]);
  });

  it('ping-pong: the roles come from the status, through the core', async () => {
    const rules = [{ matches: [], backendRefs: [{ name: 'ping', port: 80, weight: 100 }, { name: 'pong', port: 80, weight: 0 }] }];
    const api = serveRoute(route('5', rules));
    const r = rollout({ httpRoute: 'shop' }, { stableService: undefined, canaryService: undefined, pingPong: { pingService: 'ping', pongService: 'pong' } });
    r.status = { canary: { stablePingPong: 'ping' } };
    await router().setWeight(r, 30, []);
    expect(api.now().spec.rules![0]!.backendRefs).toEqual([{ name: 'ping', port: 80, weight: 70 }, { name: 'pong', port: 80, weight: 30 }]);
  });

  it('maxTrafficWeight 999: stable gets what is left of it', async () => {
    const api = serveRoute(route());
    await router().setWeight(rollout(undefined, { trafficRouting: { plugins: { [PLUGIN]: { httpRoute: 'shop' } }, maxTrafficWeight: 999 } }), 333, []);
    expect(api.now().spec.rules![1]!.backendRefs!.map((b) => b.weight)).toEqual([666, 333]);
  });

  it('experiments: their backendRefs are added on the stable port, recorded as owned, and removed when the experiment ends', async () => {
    const api = serveRoute(route());
    await router().setWeight(rollout(), 10, [{ serviceName: 'exp-a', weight: 5 }]);
    expect(api.now().spec.rules![1]!.backendRefs).toEqual([
      { name: 'shop-stable', port: 80, weight: 85 },
      { name: 'shop-canary', port: 80, weight: 10 },
      { name: 'exp-a', port: 80, weight: 5 },
    ]);
    const release = { stable: 'shop-stable', canary: 'shop-canary' };
    expect(JSON.parse(api.now().metadata.annotations![OWNED_ANNOTATION]!)).toEqual({ 'apps/shop': { rules: {}, backends: ['exp-a'], shifted: true, release } });
    await router().setWeight(rollout(), 10, []);
    expect(api.now().spec.rules![1]!.backendRefs).toEqual([{ name: 'shop-stable', port: 80, weight: 90 }, { name: 'shop-canary', port: 80, weight: 10 }]);
    // The canary's 10 % is still a hold; all back on stable, the Rollout holds nothing and its entry goes.
    expect(JSON.parse(api.now().metadata.annotations![OWNED_ANNOTATION]!)).toEqual({ 'apps/shop': { rules: {}, backends: [], shifted: true, release } });
    await router().setWeight(rollout(), 0, []);
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('the release record follows ping-pong roles, ruleName and maxTrafficWeight of the last write', async () => {
    const rules = [{ name: 'web', matches: [], backendRefs: [{ name: 'ping', port: 80, weight: 100 }, { name: 'pong', port: 80, weight: 0 }] }];
    const api = serveRoute(route('5', rules));
    const r = rollout(
      { httpRoute: 'shop', ruleName: 'web' },
      { stableService: undefined, canaryService: undefined, pingPong: { pingService: 'ping', pongService: 'pong' }, trafficRouting: { plugins: { [PLUGIN]: { httpRoute: 'shop', ruleName: 'web' } }, maxTrafficWeight: 200 } },
    );
    r.status = { canary: { stablePingPong: 'pong' } };
    await router().setWeight(r, 50, []);
    expect(JSON.parse(api.now().metadata.annotations![OWNED_ANNOTATION]!)).toEqual({
      'apps/shop': { rules: {}, backends: [], shifted: true, release: { stable: 'pong', canary: 'ping', ruleName: 'web', maxWeight: 200 } },
    });
  });

  it("experiments: an added backendRef takes the experiment Service's own port when it can be read", async () => {
    const api = serveRoute(route());
    const asked: string[] = [];
    const r = createGatewayRouter({
      routes: createHTTPRouteClient(fakeKubeConfig(base)),
      pluginName: PLUGIN,
      servicePort: async (ns, name) => {
        asked.push(`${ns}/${name}`);
        return name === 'exp-a' ? 8080 : undefined;
      },
    });
    await r.setWeight(rollout(), 10, [{ serviceName: 'exp-a', weight: 5 }, { serviceName: 'exp-b', weight: 5 }]);
    expect(asked).toEqual(['apps/exp-a', 'apps/exp-b']);
    expect(api.now().spec.rules![1]!.backendRefs!.slice(2)).toEqual([{ name: 'exp-a', port: 8080, weight: 5 }, { name: 'exp-b', port: 80, weight: 5 }]);
    // exp-b's Service appears later: its backendRef (the Rollout's own) moves to the Service's port.
    const later = createGatewayRouter({ routes: createHTTPRouteClient(fakeKubeConfig(base)), pluginName: PLUGIN, servicePort: async () => 9090 });
    await later.setWeight(rollout(), 10, [{ serviceName: 'exp-b', weight: 5 }]);
    expect(api.now().spec.rules![1]!.backendRefs!.slice(2)).toEqual([{ name: 'exp-b', port: 9090, weight: 5 }]);
  });

  it('the final-switch guard: a hold fails SetWeight with its reason and writes nothing; it sees the mode-neutral step', async () => {
    const api = serveRoute(route());
    const steps: unknown[] = [];
    const guarded = (hold: boolean) =>
      createGatewayRouter({
        routes: createHTTPRouteClient(fakeKubeConfig(base)),
        pluginName: PLUGIN,
        guard: {
          beforeSetWeight: async (step) => {
            steps.push({ target: step.target, services: step.services, desiredWeight: step.desiredWeight, maxWeight: step.maxWeight });
            return hold ? { hold: true, reason: 'holding traffic on the canary: waiting for the target groups of stable Service apps/shop-stable' } : { hold: false };
          },
        },
      });
    await expect(guarded(true).setWeight(rollout(), 0, [])).rejects.toThrow('holding traffic on the canary: waiting for the target groups of stable Service apps/shop-stable');
    expect(api.patches).toEqual([]);
    await guarded(false).setWeight(rollout(), 0, []);
    expect(api.patches).toHaveLength(1);
    expect(steps[0]).toEqual({
      target: JSON.stringify(['gateway', [[{ kind: 'HTTPRoute', name: 'shop', namespace: 'apps' }], { kind: 'services' }]]),
      services: { stable: 'shop-stable', canary: 'shop-canary', pingPong: false },
      desiredWeight: 0,
      maxWeight: 100,
    });
  });

  it('before a weight write, the stable and canary Services must exist with the backendRef\'s port (the LBC would drop the backend)', async () => {
    const api = serveRoute(route());
    const services: Record<string, number[] | undefined | null> = { 'shop-stable': [80], 'shop-canary': [8080] };
    const asked: string[] = [];
    const r = createGatewayRouter({
      routes: createHTTPRouteClient(fakeKubeConfig(base)),
      pluginName: PLUGIN,
      servicePorts: async (ns, name) => {
        asked.push(`${ns}/${name}`);
        return services[name];
      },
    });
    await expect(r.setWeight(rollout(), 20, [])).rejects.toThrow(
      'HTTPRoute apps/shop rule "main": the backendRef of Service apps/shop-canary names port 80, which the Service does not have (ports: 8080); the LBC would leave it out of the forward and send its share to the other backends. Use one of the Service ports',
    );
    delete services['shop-canary'];
    await expect(r.setWeight(rollout(), 20, [])).rejects.toThrow(
      'HTTPRoute apps/shop rule "main": Service apps/shop-canary does not exist; the LBC would leave its backendRef out of the forward and send its share to the other backends. Create the Service',
    );
    expect(api.patches).toEqual([]);
    // A Service that cannot be read is not a reason to refuse.
    services['shop-canary'] = null;
    await r.setWeight(rollout(), 20, []);
    expect(api.patches).toHaveLength(1);
    // No write, no Service read.
    asked.length = 0;
    await r.setWeight(rollout(), 20, []);
    expect(asked).toEqual([]);
  });

  it('a route in another namespace than the Services needs a ReferenceGrant there, else SetWeight refuses before writing (issue #21)', async () => {
    const cross = route('5', [
      {
        name: 'main',
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [
          { name: 'shop-stable', namespace: 'team', port: 80 },
          { name: 'shop-canary', namespace: 'team', port: 80, weight: 0 },
        ],
      },
    ]);
    const api = serveRoute(cross);
    const ro: Rollout = { ...rollout({ httpRoute: { name: 'shop', namespace: 'apps' } }), metadata: { name: 'shop', namespace: 'team', uid: 'u2' } };
    let grants: Array<Record<string, unknown>> | null = [];
    const asked: string[] = [];
    const r = createGatewayRouter({
      routes: createHTTPRouteClient(fakeKubeConfig(base)),
      pluginName: PLUGIN,
      servicePorts: async () => [80],
      referenceGrants: async (ns) => {
        asked.push(ns);
        return grants;
      },
    });
    await expect(r.setWeight(ro, 20, [])).rejects.toThrow(
      'HTTPRoute apps/shop rule "main": refers to Service team/shop-stable in another namespace, and no ReferenceGrant in team allows HTTPRoutes of apps to refer to it; ' +
        'the LBC would leave the backendRef out of the forward (ResolvedRefs False, RefNotPermitted). ' +
        'Create a ReferenceGrant in team from {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps} to {group: "", kind: Service}',
    );
    expect(asked).toEqual(['team']);
    // A grant for another namespace's routes, or for another Service only, does not do.
    grants = [
      { spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'other' }], to: [{ group: '', kind: 'Service' }] } },
      { spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service', name: 'unrelated' }] } },
    ];
    await expect(r.setWeight(ro, 20, [])).rejects.toThrow(/no ReferenceGrant in team allows HTTPRoutes of apps/);
    expect(api.patches).toEqual([]);
    grants = [{ spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service' }] } }];
    await r.setWeight(ro, 20, []);
    expect(api.patches).toHaveLength(1);
    // Grants that cannot be read are not a reason to refuse.
    grants = null;
    await r.setWeight(ro, 50, []);
    expect(api.patches).toHaveLength(2);
  });

  it('refuses a rule that would forward to more than 5 target groups, before any write', async () => {
    const rules = [{ name: 'main', backendRefs: ['shop-stable', 'shop-canary', 'a', 'b', 'c'].map((name) => ({ name, port: 80 })) }];
    const api = serveRoute(route('3', rules));
    await expect(router().setWeight(rollout(), 10, [{ serviceName: 'exp', weight: 1 }])).rejects.toThrow(
      'HTTPRoute apps/shop rule "main" (spec.rules[0]) would have 6 backendRefs (5 now, 1 experiment Service(s) to add); ALB forwards to at most 5 target groups, remove backendRefs from the rule or use fewer experiment templates',
    );
    expect(api.patches).toEqual([]);
  });

  it('refuses a route whose rules do not name the canary Service, saying what to add', async () => {
    const api = serveRoute(route('3', [{ backendRefs: [{ name: 'shop-stable', port: 80 }] }]));
    await expect(router().setWeight(rollout(), 10, [])).rejects.toThrow(
      'HTTPRoute apps/shop has no rule whose backendRefs name both the stable Service "shop-stable" and the canary Service "shop-canary"; add {name: shop-canary, port: <Service port>, weight: 0} next to the stable backendRef',
    );
    expect(api.patches).toEqual([]);
  });

  it('ruleName selects one rule; a missing name is refused naming the field', async () => {
    const rules = [
      { name: 'a', backendRefs: [{ name: 'shop-stable', port: 80 }, { name: 'shop-canary', port: 80 }] },
      { name: 'b', backendRefs: [{ name: 'shop-stable', port: 80 }, { name: 'shop-canary', port: 80 }] },
    ];
    const api = serveRoute(route('3', rules));
    await router().setWeight(rollout({ httpRoute: 'shop', ruleName: 'b' }), 50, []);
    expect(api.now().spec.rules!.map((r) => r.backendRefs!.map((b) => b.weight))).toEqual([[undefined, undefined], [50, 50]]);
    await expect(router().setWeight(rollout({ httpRoute: 'shop', ruleName: 'c' }), 50, [])).rejects.toThrow(
      `HTTPRoute apps/shop has no rule named "c" (spec.strategy.canary.trafficRouting.plugins["${PLUGIN}"].ruleName)`,
    );
  });

  it('a stale read (the test fails, 422) is recomputed from a fresh read; the other writer\'s changes stay', async () => {
    let raced = false;
    const api = serveRoute(route(), {
      beforePatch: (r) => {
        if (raced) return;
        raced = true;
        // Another writer adds a rule and bumps the resourceVersion between our read and our patch.
        r.spec.rules!.unshift({ name: 'other', backendRefs: [{ name: 'x', port: 80 }] });
        r.metadata.resourceVersion = '99';
      },
    });
    await router().setWeight(rollout(), 20, []);
    expect(api.patches).toHaveLength(2);
    expect(api.patches[1]![0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '99' });
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['other', 'api', 'main']);
    expect(api.now().spec.rules![2]!.backendRefs!.map((b) => b.weight)).toEqual([80, 20]);
  });

  it('a 422 on an unchanged route is a refusal of the patch, reported once', async () => {
    nock(base).get(routePath('apps', 'shop')).times(2).reply(200, route(), json);
    nock(base)
      .patch(routePath('apps', 'shop'))
      .reply(422, { kind: 'Status', code: 422, reason: 'Invalid', message: 'HTTPRoute.gateway.networking.k8s.io "shop" is invalid: spec.rules[1].backendRefs[1].weight: Invalid value' }, json);
    await expect(router().setWeight(rollout(), 20, [])).rejects.toThrow(
      'HTTPRoute apps/shop: the API server refused the plugin\'s patch: patching HTTPRoute apps/shop: HTTPRoute.gateway.networking.k8s.io "shop" is invalid',
    );
  });

  it('409 is retried from a fresh read', async () => {
    nock(base).get(routePath('apps', 'shop')).times(2).reply(200, route(), json);
    nock(base).patch(routePath('apps', 'shop')).reply(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }, json);
    nock(base).patch(routePath('apps', 'shop')).reply(200, route('42'), json);
    await router().setWeight(rollout(), 20, []);
  });

  it('a call whose signal has fired writes nothing', async () => {
    const ac = new AbortController();
    let read = false;
    nock(base)
      .get(routePath('apps', 'shop'))
      .reply(() => {
        read = true;
        ac.abort(new Error('deadline passed'));
        return [200, route(), json];
      });
    const call: CallContext = { signal: ac.signal, deadline: Date.now() + 25_000, timeoutMs: 25_000 };
    await expect(router().setWeight(rollout(), 20, [], call)).rejects.toThrow(/HTTPRoute apps\/shop: write not done: deadline passed|cancelled: deadline passed/);
    expect(read).toBe(true);
  });

  it('a 404 names the route', async () => {
    nock(base).get(routePath('apps', 'shop')).reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'httproutes.gateway.networking.k8s.io "shop" not found' }, json);
    await expect(router().setWeight(rollout(), 20, [])).rejects.toThrow('httproutes.gateway.networking.k8s.io "shop" not found in namespace apps');
  });
});

describe('Gateway mode header routes', () => {
  const beta = { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] };

  it('adds one rule: the driven rule\'s matches plus the headers, its ExtensionRef filter, 100 % to the canary; recorded as owned', async () => {
    const api = serveRoute(route());
    await router().setHeaderRoute(rollout(), beta);
    expect(api.patches[0]!.slice(0, 2)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '41' },
      {
        op: 'add',
        path: '/spec/rules/-',
        value: {
          name: 'argo-shop-beta',
          matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Beta', value: 'yes' }] }],
          backendRefs: [{ name: 'shop-canary', port: 80, weight: 100 }],
          filters: [{ type: 'ExtensionRef', extensionRef: { group: 'gateway.k8s.aws', kind: 'ListenerRuleConfiguration', name: 'auth' } }],
        },
      },
    ]);
    expect(JSON.parse(api.now().metadata.annotations![OWNED_ANNOTATION]!)).toEqual({
      'apps/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: [], release: { stable: 'shop-stable', canary: 'shop-canary' } },
    });
    // The same call again changes nothing.
    await router().setHeaderRoute(rollout(), beta);
    expect(api.patches).toHaveLength(1);
  });

  it('keeps managedRoutes order: a route listed earlier goes before a later one\'s rule', async () => {
    const api = serveRoute(route());
    await router().setHeaderRoute(rollout(), { name: 'Gamma', match: [{ headerName: 'X-G', headerValue: { prefix: 'g' } }] });
    await router().setHeaderRoute(rollout(), beta);
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['api', 'main', 'argo-shop-beta', 'argo-shop-gamma']);
    expect(api.now().spec.rules![3]!.matches![0]!.headers).toEqual([{ type: 'Exact', name: 'X-G', value: 'g*' }]);
  });

  it('SetHeaderRoute without match removes that route\'s rule; RemoveManagedRoutes removes all, tested by name, highest index first', async () => {
    const api = serveRoute(route());
    await router().setHeaderRoute(rollout(), beta);
    await router().setHeaderRoute(rollout(), { name: 'Gamma', match: [{ headerName: 'X-G', headerValue: { exact: 'g' } }] });
    await router().setHeaderRoute(rollout(), { name: 'beta' });
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['api', 'main', 'argo-shop-gamma']);
    await router().setHeaderRoute(rollout(), beta);
    await router().removeManagedRoutes(rollout());
    expect(api.patches.at(-1)!.slice(0, 5)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: String(41 + 4) },
      { op: 'test', path: '/spec/rules/3/name', value: 'argo-shop-gamma' },
      { op: 'remove', path: '/spec/rules/3' },
      { op: 'test', path: '/spec/rules/2/name', value: 'argo-shop-beta' },
      { op: 'remove', path: '/spec/rules/2' },
    ]);
    expect(api.now().spec.rules).toEqual(route().spec.rules);
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    await router().removeManagedRoutes(rollout());
    expect(api.patches).toHaveLength(5);
  });

  it('never removes a rule it does not own, even one with its name', async () => {
    const rules = [...route().spec.rules!, { name: 'argo-shop-beta', backendRefs: [{ name: 'x', port: 80 }] }];
    const api = serveRoute(route('3', rules));
    await router().removeManagedRoutes(rollout());
    expect(api.patches).toEqual([]);
    await expect(router().setHeaderRoute(rollout(), beta)).rejects.toThrow(
      'HTTPRoute apps/shop already has a rule named "argo-shop-beta" that this Rollout did not add; rename that rule',
    );
  });

  it('refuses what the core refuses, before any read', async () => {
    await expect(router().setHeaderRoute(rollout(), { name: 'other', match: beta.match })).rejects.toThrow(
      'header route "other" is not listed in spec.strategy.canary.trafficRouting.managedRoutes; add it there so it can be removed again',
    );
    await expect(router().setMirrorRoute(rollout(), { name: 'm' })).rejects.toThrow('ALB cannot mirror traffic (setMirrorRoute "m")');
  });
});
