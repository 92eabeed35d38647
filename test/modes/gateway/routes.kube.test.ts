// Gateway mode against a real kube-apiserver with the Gateway API CRDs installed (standard channel v1.6.0, the
// LBC v3.6.2's version, from the e2e cache), authenticated as the sidecar's ServiceAccount bound only to the
// ClusterRole from deploy/: the JSON patches must pass RBAC, the CRD's schema and CEL rules (rule names, the
// atomic lists), and the API server's own `test` evaluation; every result is read back from the server.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, loadAllYaml, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../../src/core/rollout.js';
import { createHTTPRouteClient, type HTTPRouteClient } from '../../../src/modes/gateway/client.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';
import { OWNED_ANNOTATION } from '../../../src/modes/gateway/route/ownership.js';
import { createGatewayReader, createServicePortReader, createServicePortsReader } from '../../../src/modes/gateway/k8s.js';
import { createGatewayRouter } from '../../../src/modes/gateway/router.js';
import { REPO_ROOT, skipKubeTests } from '../../support/kube/assets.js';
import { useCluster } from '../../support/kube/cluster.js';

const PLUGIN = 'argoproj-labs/alb';
const GROUP = 'gateway.networking.k8s.io';

function crdFile(): string | undefined {
  try {
    const dir = execFileSync('bash', [join(REPO_ROOT, 'scripts/e2e/build.sh'), '--print'], { encoding: 'utf8' }).trim();
    const file = join(dir, 'manifests/gateway-api-crds.yaml');
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}
const CRDS = crdFile();

function rollout(name: string): Rollout {
  return {
    metadata: { name, namespace: '', uid: `uid-${name}` },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { [PLUGIN]: { httpRoute: 'shop' } }, managedRoutes: [{ name: 'Beta_Users' }] },
        },
      },
    },
  };
}

function route(ns: string): KubernetesObject & HTTPRoute {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: 'shop', namespace: ns },
    spec: {
      parentRefs: [{ group: GROUP, kind: 'Gateway', name: 'gw' }],
      hostnames: ['shop.example.com'],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'api', port: 80 }] },
        {
          name: 'main',
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: 'shop-stable', port: 80 },
            { name: 'shop-canary', port: 80, weight: 0 },
          ],
        },
      ],
    },
  };
}

describe.skipIf(skipKubeTests() || !CRDS)('Gateway mode against kube-apiserver with the Gateway API CRDs (sidecar ServiceAccount, deploy/ RBAC)', () => {
  const cluster = useCluster();
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    const c = cluster();
    const crds = (loadAllYaml(readFileSync(CRDS!, 'utf8')) as KubernetesObject[]).filter(
      (d) => d?.kind === 'CustomResourceDefinition' && ['httproutes', 'grpcroutes', 'gateways', 'gatewayclasses'].some((p) => d.metadata?.name === `${p}.${GROUP}`),
    );
    await c.env.apply(crds);
    custom = c.admin.makeApiClient(CustomObjectsApi);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'httproutes' });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 60_000);

  async function setup(prefix: string): Promise<{ ns: string; kc: KubeConfig; client: HTTPRouteClient; ro: Rollout; read: () => Promise<HTTPRoute> }> {
    const c = cluster();
    const ns = await c.createNamespace(prefix);
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'httproutes', body: route(ns) });
    const kc = c.sidecarConfig();
    const ro = rollout('shop');
    ro.metadata.namespace = ns;
    const read = async () =>
      JSON.parse(JSON.stringify(await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'httproutes', name: 'shop' }))) as HTTPRoute;
    return { ns, kc, client: createHTTPRouteClient(kc), ro, read };
  }

  it('SetWeight 20 → 50 → 100 → 0: only the two weights change; the server accepts each guarded patch', async () => {
    const { client, ro, read, ns } = await setup('gw-weight');
    const router = createGatewayRouter({ routes: client, pluginName: PLUGIN });
    const before = await read();
    for (const w of [20, 50, 100, 0]) {
      await router.setWeight(ro, w, []);
      const after = await read();
      expect(after.spec.rules![1]!.backendRefs!.map((b) => [b.name, b.weight])).toEqual([['shop-stable', 100 - w], ['shop-canary', w]]);
      expect(after.spec.rules![0]).toEqual(before.spec.rules![0]);
      expect(after.spec.rules![1]!.matches).toEqual(before.spec.rules![1]!.matches);
      // Weights off stable are recorded (with what a release needs), all on stable they are not.
      const entry = after.metadata.annotations?.[OWNED_ANNOTATION];
      expect(entry && JSON.parse(entry)).toEqual(w === 0 ? undefined : { [`${ns}/shop`]: { rules: {}, backends: [], shifted: true, release: { stable: 'shop-stable', canary: 'shop-canary' } } });
    }
    // No write when nothing changes: the resourceVersion stays.
    const rv = (await read()).metadata.resourceVersion;
    await router.setWeight(ro, 0, []);
    expect((await read()).metadata.resourceVersion).toBe(rv);
    expect(ns).toBeTruthy();
  });

  it('a header route is a named rule the CRD accepts, placed after the driven rule; removed again by RemoveManagedRoutes', async () => {
    const { client, ro, read } = await setup('gw-header');
    const router = createGatewayRouter({ routes: client, pluginName: PLUGIN });
    const before = await read();
    await router.setHeaderRoute(ro, { name: 'Beta_Users', match: [{ headerName: 'X-Beta', headerValue: { exact: 'a,b' } }] });
    const after = await read();
    expect(after.spec.rules!.map((r) => r.name)).toEqual([undefined, 'main', 'argo-shop-beta-users']);
    expect(after.spec.rules![2]).toEqual({
      name: 'argo-shop-beta-users',
      matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Beta', value: 'a\\,b' }] }],
      backendRefs: [{ group: '', kind: 'Service', name: 'shop-canary', port: 80, weight: 100 }],
    });
    expect(JSON.parse(after.metadata.annotations![OWNED_ANNOTATION]!)).toEqual({
      [`${ro.metadata.namespace}/shop`]: { rules: { 'argo-shop-beta-users': 'Beta_Users' }, backends: [], release: { stable: 'shop-stable', canary: 'shop-canary' } },
    });
    await router.removeManagedRoutes(ro);
    const removed = await read();
    expect(removed.spec.rules).toEqual(before.spec.rules);
    expect(removed.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('a GRPCRoute (grpcroutes, as the sidecar): weights, then a header rule with the method match and the headers that the CRD accepts, then removed', async () => {
    const c = cluster();
    const ns = await c.createNamespace('gw-grpc');
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: ns,
      plural: 'grpcroutes',
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'GRPCRoute',
        metadata: { name: 'greeter', namespace: ns },
        spec: {
          parentRefs: [{ group: GROUP, kind: 'Gateway', name: 'gw', sectionName: 'https' }],
          rules: [
            {
              name: 'main',
              matches: [{ method: { service: 'helloworld.Greeter' } }],
              backendRefs: [{ name: 'shop-stable', port: 80 }, { name: 'shop-canary', port: 80, weight: 0 }],
            },
          ],
        },
      },
    });
    const read = async () =>
      JSON.parse(JSON.stringify(await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: ns, plural: 'grpcroutes', name: 'greeter' }))) as HTTPRoute;
    const ro = rollout('shop');
    ro.metadata.namespace = ns;
    ro.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: { grpcRoute: 'greeter' } };
    const router = createGatewayRouter({ routes: createHTTPRouteClient(c.sidecarConfig()), pluginName: PLUGIN });
    const before = await read();
    await router.setWeight(ro, 30, []);
    expect((await read()).spec.rules![0]!.backendRefs!.map((b) => [b.name, b.weight])).toEqual([['shop-stable', 70], ['shop-canary', 30]]);

    await router.setHeaderRoute(ro, { name: 'Beta_Users', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] });
    const after = await read();
    // The server defaulted the user's method match to type Exact; the header rule carries it as stored.
    expect(after.spec.rules![1]).toEqual({
      name: 'argo-shop-beta-users',
      matches: [{ method: { type: 'Exact', service: 'helloworld.Greeter' }, headers: [{ type: 'Exact', name: 'x-beta', value: 'yes' }] }],
      backendRefs: [{ group: '', kind: 'Service', name: 'shop-canary', port: 80, weight: 100 }],
    });
    // Stored as sent: the same call again writes nothing.
    const rv = after.metadata.resourceVersion;
    await router.setHeaderRoute(ro, { name: 'Beta_Users', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] });
    expect((await read()).metadata.resourceVersion).toBe(rv);

    await router.removeManagedRoutes(ro);
    await router.setWeight(ro, 0, []);
    const removed = await read();
    expect(removed.spec.rules).toEqual(before.spec.rules!.map((r) => ({ ...r, backendRefs: r.backendRefs!.map((b) => ({ ...b, weight: b.name === 'shop-stable' ? 100 : 0 })) })));
    expect(removed.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('a patch computed from a stale read is refused by the server (422) and the router recomputes it from a fresh read', async () => {
    const { client, ro, read, ns } = await setup('gw-stale');
    let raced = false;
    const answers: Array<number | 'ok'> = [];
    // Another writer (the admin) changes the route between the router's read and its patch.
    const racing: HTTPRouteClient = {
      get: (n, name, o) => client.get(n, name, o),
      async patch(n, name, ops, o) {
        if (!raced) {
          raced = true;
          await custom.patchNamespacedCustomObject(
            { group: GROUP, version: 'v1', namespace: ns, plural: 'httproutes', name: 'shop', body: [{ op: 'replace', path: '/spec/rules/0/backendRefs/0/port', value: 8080 }] },
            setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
          );
        }
        try {
          const out = await client.patch(n, name, ops, o);
          answers.push('ok');
          return out;
        } catch (err) {
          answers.push((err as { status: number }).status);
          throw err;
        }
      },
    };
    const router = createGatewayRouter({ routes: racing, pluginName: PLUGIN });
    await router.setWeight(ro, 30, []);
    const after = await read();
    // The first patch's `test /metadata/resourceVersion` failed on the server; the second came from a fresh read.
    expect(answers).toEqual([422, 'ok']);
    expect(after.spec.rules![0]!.backendRefs![0]!.port).toBe(8080);
    expect(after.spec.rules![1]!.backendRefs!.map((b) => b.weight)).toEqual([70, 30]);
  });

  it("VerifyWeight's Kubernetes reads as the sidecar: the Gateway, its class, the LBC's TargetGroupBindings by their stack labels, a Service's port", async () => {
    const c = cluster();
    const ns = await c.createNamespace('gw-reads');
    await custom.createClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: `alb-${ns}` }, spec: { controllerName: 'gateway.k8s.aws/alb' } } });
    await custom.createNamespacedCustomObject({
      group: GROUP, version: 'v1', namespace: ns, plural: 'gateways',
      body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'gw', namespace: ns }, spec: { gatewayClassName: `alb-${ns}`, listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shop.example.com' }] } },
    });
    const tgb = (name: string, service: string, labels: Record<string, string>) => ({
      apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding',
      metadata: { name, namespace: ns, labels },
      spec: { serviceRef: { name: service, port: 80 }, targetGroupARN: `arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/${name}/0123456789abcdef`, targetType: 'ip' },
    });
    const stack = { 'gateway.k8s.aws.alb/stack-namespace': ns, 'gateway.k8s.aws.alb/stack-name': 'gw' };
    for (const b of [tgb('k8s-stable', 'shop-stable', stack), tgb('k8s-canary', 'shop-canary', stack), tgb('other', 'shop-stable', { 'gateway.k8s.aws.alb/stack-name': 'other' })]) {
      await custom.createNamespacedCustomObject({ group: 'elbv2.k8s.aws', version: 'v1beta1', namespace: ns, plural: 'targetgroupbindings', body: b });
    }
    await c.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'exp', namespace: ns }, spec: { ports: [{ port: 8080, targetPort: 8080 }] } } as KubernetesObject);

    const reader = createGatewayReader(c.sidecarConfig());
    const gw = await reader.getGateway(ns, 'gw');
    expect(gw?.spec.listeners).toEqual([{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shop.example.com', allowedRoutes: { namespaces: { from: 'Same' } } }]);
    expect(await reader.getGateway(ns, 'missing')).toBeUndefined();
    expect(await reader.getGatewayClass(`alb-${ns}`)).toMatchObject({ spec: { controllerName: 'gateway.k8s.aws/alb' } });
    const bindings = await reader.listGatewayBindings(ns, ns, 'gw');
    expect(bindings.map((b) => [b.name, b.serviceName]).sort()).toEqual([['k8s-canary', 'shop-canary'], ['k8s-stable', 'shop-stable']]);
    const port = createServicePortReader(c.sidecarConfig());
    expect(await port(ns, 'exp')).toBe(8080);
    expect(await port(ns, 'missing')).toBeUndefined();
    const ports = createServicePortsReader(c.sidecarConfig());
    expect(await ports(ns, 'exp')).toEqual([8080]);
    expect(await ports(ns, 'missing')).toBeUndefined();
  });
});
