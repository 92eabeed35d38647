// Gateway mode on GRPCRoutes at the HTTP wire level (nock stands in for the API server): the same planners as for
// HTTPRoutes, sent to gateway.networking.k8s.io/v1 grpcroutes; a header rule keeps the driven rule's method match
// and has no path (a GRPCRouteMatch has none); an HTTPRoute and a GRPCRoute named together are both driven.
import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../../src/core/rollout.js';
import { createHTTPRouteClient, listAllGatewayRoutes } from '../../../src/modes/gateway/client.js';
import { applyJsonPatch, type JsonPatchOp } from '../../../src/modes/gateway/json-patch.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';
import { OWNED_ANNOTATION } from '../../../src/modes/gateway/route/ownership.js';
import { createGatewayRouter } from '../../../src/modes/gateway/router.js';
import { fakeKubeConfig, jsonBody, useNockedApiServer } from '../../k8s/fake-cluster.js';

const PLUGIN = 'argoproj-labs/alb';
const json = { 'content-type': 'application/json' };
const path = (plural: string, name: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/apps/${plural}/${name}`;

const apiServer = useNockedApiServer();
let base: string;
beforeAll(() => {
  base = apiServer();
});

function rollout(block: Record<string, unknown>): Rollout {
  return {
    metadata: { name: 'shop', namespace: 'apps', uid: 'u1' },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { [PLUGIN]: block }, managedRoutes: [{ name: 'beta' }] },
        },
      },
    },
  };
}

function grpcRoute(rules?: HTTPRoute['spec']['rules']): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'shop', namespace: 'apps', resourceVersion: '7' },
    spec: {
      parentRefs: [{ name: 'gw', sectionName: 'https' }],
      rules: rules ?? [
        {
          name: 'greeter',
          matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter' } }],
          filters: [
            { type: 'ExtensionRef', extensionRef: { group: 'gateway.k8s.aws', kind: 'ListenerRuleConfiguration', name: 'auth' } },
            { type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x', value: 'y' }] } },
          ],
          backendRefs: [{ name: 'shop-stable', port: 80, weight: 100 }, { name: 'shop-canary', port: 80, weight: 0 }],
        },
      ],
    },
  };
}

/** A stateful stand-in for one route under `plural`: GET returns it, PATCH applies the JSON patch (a failed test: 422). */
function serve(plural: string, start: HTTPRoute) {
  let current = structuredClone(start);
  const patches: JsonPatchOp[][] = [];
  nock(base)
    .persist()
    .get(path(plural, 'shop'))
    .optionally()
    .reply(() => [200, current, json])
    .patch(path(plural, 'shop'))
    .optionally()
    .reply((_uri, body) => {
      const ops = jsonBody(body) as JsonPatchOp[];
      patches.push(ops);
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
  return { patches, now: () => current };
}

const router = () => createGatewayRouter({ routes: createHTTPRouteClient(fakeKubeConfig(base)), pluginName: PLUGIN });

describe('Gateway mode on a GRPCRoute', () => {
  it('SetWeight patches the GRPCRoute (grpcroutes) with the same guarded weight-only patch as an HTTPRoute', async () => {
    const api = serve('grpcroutes', grpcRoute());
    await router().setWeight(rollout({ grpcRoute: 'shop' }), 20, []);
    expect(api.patches).toEqual([
      [
        { op: 'test', path: '/metadata/resourceVersion', value: '7' },
        { op: 'test', path: '/spec/rules/0/backendRefs/1/name', value: 'shop-canary' },
        { op: 'replace', path: '/spec/rules/0/backendRefs/1/weight', value: 20 },
        { op: 'test', path: '/spec/rules/0/backendRefs/0/name', value: 'shop-stable' },
        { op: 'replace', path: '/spec/rules/0/backendRefs/0/weight', value: 80 },
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { [OWNED_ANNOTATION]: JSON.stringify({ 'apps/shop': { rules: {}, backends: [], shifted: true, release: { stable: 'shop-stable', canary: 'shop-canary' } } }) },
        },
      ],
    ]);
    // The method match and the filters are the user's and stay.
    expect({ ...api.now().spec.rules![0]!, backendRefs: [] }).toEqual({ ...grpcRoute().spec.rules![0]!, backendRefs: [] });
  });

  it('a header route keeps the method match, adds the headers (no path: a GRPCRouteMatch has none), copies only the ExtensionRef filter', async () => {
    const api = serve('grpcroutes', grpcRoute());
    const beta = { name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'a,b' } }] };
    await router().setHeaderRoute(rollout({ grpcRoute: 'shop' }), beta);
    expect(api.patches[0]!.slice(0, 2)).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      {
        op: 'add',
        path: '/spec/rules/-',
        value: {
          name: 'argo-shop-beta',
          matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter' }, headers: [{ type: 'Exact', name: 'x-beta', value: 'a\\,b' }] }],
          backendRefs: [{ name: 'shop-canary', port: 80, weight: 100 }],
          filters: [{ type: 'ExtensionRef', extensionRef: { group: 'gateway.k8s.aws', kind: 'ListenerRuleConfiguration', name: 'auth' } }],
        },
      },
    ]);
    expect(JSON.parse(api.now().metadata.annotations![OWNED_ANNOTATION]!)).toEqual({ 'apps/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: [], release: { stable: 'shop-stable', canary: 'shop-canary' } } });
    // Idempotent, and removed by RemoveManagedRoutes with the bookkeeping.
    await router().setHeaderRoute(rollout({ grpcRoute: 'shop' }), beta);
    expect(api.patches).toHaveLength(1);
    await router().removeManagedRoutes(rollout({ grpcRoute: 'shop' }));
    expect(api.now().spec.rules!.map((r) => r.name)).toEqual(['greeter']);
    expect(api.now().metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('a header route on a rule without matches has only the header match (the LBC renders it as path /* plus the header)', async () => {
    const api = serve('grpcroutes', grpcRoute([{ backendRefs: [{ name: 'shop-stable', port: 80, weight: 90 }, { name: 'shop-canary', port: 80, weight: 10 }] }]));
    await router().setHeaderRoute(rollout({ grpcRoute: 'shop' }), { name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] });
    expect(api.now().spec.rules![1]!.matches).toEqual([{ headers: [{ type: 'Exact', name: 'x-beta', value: 'yes' }] }]);
  });

  it('an HTTPRoute and a GRPCRoute of the same name in one block: each kind is read and patched at its own resource', async () => {
    const http: HTTPRoute = {
      ...grpcRoute([{ name: 'main', backendRefs: [{ name: 'shop-stable', port: 80, weight: 100 }, { name: 'shop-canary', port: 80, weight: 0 }] }]),
      kind: 'HTTPRoute',
    };
    const h = serve('httproutes', http);
    const g = serve('grpcroutes', grpcRoute());
    await router().setWeight(rollout({ httpRoute: 'shop', grpcRoute: 'shop' }), 30, []);
    expect(h.now().spec.rules![0]!.backendRefs!.map((b) => b.weight)).toEqual([70, 30]);
    expect(g.now().spec.rules![0]!.backendRefs!.map((b) => b.weight)).toEqual([70, 30]);
    // Release (deletion cleanup) puts both back on stable.
    await router().release(rollout({ httpRoute: 'shop', grpcRoute: 'shop' }));
    expect(h.now().spec.rules![0]!.backendRefs!.map((b) => b.weight)).toEqual([100, 0]);
    expect(g.now().spec.rules![0]!.backendRefs!.map((b) => b.weight)).toEqual([100, 0]);
  });

  it('a missing GRPCRoute is named by its resource', async () => {
    nock(base).get(path('grpcroutes', 'shop')).reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'grpcroutes.gateway.networking.k8s.io "shop" not found' }, json);
    await expect(router().setWeight(rollout({ grpcRoute: 'shop' }), 20, [])).rejects.toThrow('grpcroutes.gateway.networking.k8s.io "shop" not found in namespace apps');
  });
});

describe("the cleanup sweep's list of both route kinds", () => {
  const list = (plural: string) => `/apis/gateway.networking.k8s.io/v1/${plural}`;
  const notServed = { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' };

  it('lists HTTPRoutes and GRPCRoutes, each marked with its kind (list items may omit it)', async () => {
    nock(base).get(list('httproutes')).query(true).reply(200, { items: [{ metadata: { name: 'web', namespace: 'apps' }, spec: {} }], metadata: {} }, json);
    nock(base).get(list('grpcroutes')).query(true).reply(200, { items: [{ metadata: { name: 'rpc', namespace: 'apps' }, spec: {} }], metadata: {} }, json);
    const routes = await listAllGatewayRoutes(fakeKubeConfig(base))();
    expect(routes?.map((r) => `${r.kind} ${r.metadata.name}`)).toEqual(['HTTPRoute web', 'GRPCRoute rpc']);
  });

  it('a cluster without the GRPCRoute CRD still has its HTTPRoutes swept; with neither kind served there is nothing to sweep', async () => {
    nock(base).get(list('httproutes')).query(true).reply(200, { items: [{ metadata: { name: 'web', namespace: 'apps' }, spec: {} }], metadata: {} }, json);
    nock(base).get(list('grpcroutes')).query(true).reply(404, notServed, json);
    expect((await listAllGatewayRoutes(fakeKubeConfig(base))())?.map((r) => r.kind)).toEqual(['HTTPRoute']);
    nock(base).get(list('httproutes')).query(true).reply(404, notServed, json);
    nock(base).get(list('grpcroutes')).query(true).reply(404, notServed, json);
    expect(await listAllGatewayRoutes(fakeKubeConfig(base))()).toBeUndefined();
  });
});

describe('conflicts on routes', () => {
  it('a stale patch is reported with the kind of route it was sent to (the conflict metric labels them apart)', async () => {
    const kinds: string[] = [];
    const client = createHTTPRouteClient(fakeKubeConfig(base), { onConflict: (kind) => kinds.push(kind) });
    const conflict = { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' };
    nock(base).patch(path('grpcroutes', 'shop')).reply(409, conflict, json);
    nock(base).patch(path('httproutes', 'shop')).reply(409, conflict, json);
    await expect(client.patch('apps', 'shop', [], undefined, 'GRPCRoute')).rejects.toThrow('the object has been modified');
    await expect(client.patch('apps', 'shop', [], undefined, 'HTTPRoute')).rejects.toThrow('the object has been modified');
    expect(kinds).toEqual(['GRPCRoute', 'HTTPRoute']);
  });
});
