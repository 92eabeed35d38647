// Gateway mode's cleanup fed by a real watch, against a real kube-apiserver with the Gateway API CRDs (standard
// channel, from the e2e cache, as in test/modes/gateway/routes.kube.test.ts): a deleted Gateway-mode Rollout's header
// rule leaves its HTTPRoute, and a Rollout that moves from Ingress mode to Gateway mode releases its Ingress.
// The watch, the reads and the patches run as the sidecar's ServiceAccount (deploy/ RBAC).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, CustomObjectsApi, loadAllYaml, PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testCleanup } from '../../support/cleanup.js';
import { gatewayRouteCleanup } from '../../../src/modes/gateway/cleanup.js';
import { createReleaser } from '../../../src/modes/ingress/releaser.js';
import { startRolloutWatch, type RolloutWatch } from '../../../src/cleanup/watch.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { createHTTPRouteClient, listAllGatewayRoutes } from '../../../src/modes/gateway/client.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';
import { OWNED_ANNOTATION } from '../../../src/modes/gateway/route/ownership.js';
import { createGatewayRouter } from '../../../src/modes/gateway/router.js';
import { createIngressClient } from '../../../src/k8s/ingress-client.js';
import type { Ingress } from '../../../src/k8s/ingress.js';
import { createIngressRouter } from '../../../src/modes/ingress/router.js';
import { REPO_ROOT, skipKubeTests } from '../../support/kube/assets.js';
import { useCluster } from '../../support/kube/cluster.js';
import { ingress, MANAGED, PLUGIN, PREFIX, rollout } from '../../support/kube/fixtures.js';

const GROUP = 'gateway.networking.k8s.io';
const ROUTES = { group: GROUP, version: 'v1', plural: 'httproutes' };
const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

function httpRoute(ns: string): KubernetesObject & HTTPRoute {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: 'shop', namespace: ns },
    spec: {
      parentRefs: [{ group: GROUP, kind: 'Gateway', name: 'gw' }],
      rules: [
        {
          name: 'main',
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [
            { name: 'stable-svc', port: 80, weight: 80 },
            { name: 'canary-svc', port: 80, weight: 20 },
          ],
        },
      ],
    },
  };
}

function gatewayRollout(ns: string): Rollout & KubernetesObject {
  const r = rollout({ namespace: ns, managedRoutes: ['beta'] });
  r.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: { httpRoute: 'shop' } };
  return r;
}

function managedOf(ing: Ingress): Record<string, string[]> {
  const raw = ing.metadata.annotations?.[MANAGED];
  return raw ? (JSON.parse(raw) as Record<string, string[]>) : {};
}

describe.skipIf(skipKubeTests() || !CRDS)('Gateway mode cleanup from a real watch (Gateway API CRDs, sidecar ServiceAccount)', () => {
  const cluster = useCluster();
  let custom: CustomObjectsApi;
  let watch: RolloutWatch | undefined;

  beforeAll(async () => {
    const c = cluster();
    const crds = (loadAllYaml(readFileSync(CRDS!, 'utf8')) as KubernetesObject[]).filter(
      (d) => d?.kind === 'CustomResourceDefinition' && ['httproutes', 'gateways', 'gatewayclasses'].some((p) => d.metadata?.name === `${p}.${GROUP}`),
    );
    await c.env.apply(crds);
    custom = c.admin.makeApiClient(CustomObjectsApi);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await custom.listClusterCustomObject(ROUTES);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }, 60_000);

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
  });

  async function setup(prefix: string) {
    const c = cluster();
    const ns = await c.createNamespace(prefix);
    await custom.createNamespacedCustomObject({ ...ROUTES, namespace: ns, body: httpRoute(ns) });
    const kc = c.sidecarConfig();
    const ingresses = createIngressClient(kc);
    const gateway = createGatewayRouter({ routes: createHTTPRouteClient(kc), pluginName: PLUGIN });
    const controller = testCleanup({
      pluginName: PLUGIN,
      albIngressClasses: ['alb'],
      releaser: createReleaser({ ingresses }),
      gatewayRoutes: gatewayRouteCleanup({ release: (r) => gateway.release(r) }),
    }).controller;
    // The sweep is driven by hand here; the watch events alone must do the work.
    watch = startRolloutWatch({ kc, controller, sweepEveryMs: 3_600_000, retryDelayMs: 500 });
    await watch.synced();
    const readRoute = async () => JSON.parse(JSON.stringify(await custom.getNamespacedCustomObject({ ...ROUTES, namespace: ns, name: 'shop' }))) as HTTPRoute;
    const createRollout = async (ro: Rollout): Promise<Rollout> => (await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, body: ro })) as Rollout;
    return { c, ns, gateway, ingressRouter: createIngressRouter({ ingresses, pluginName: PLUGIN, albIngressClasses: ['alb'] }), readRoute, createRollout };
  }

  it("a deleted Gateway-mode Rollout's header rule leaves the HTTPRoute, its weights go back to stable, the driven rule stays", async () => {
    const { ns, gateway, readRoute, createRollout } = await setup('gw-deleted');
    const before = await readRoute();
    const ro = await createRollout(gatewayRollout(ns));
    await gateway.setHeaderRoute(ro, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    expect((await readRoute()).spec.rules!.map((r) => r.name)).toEqual(['main', 'argo-rollout-beta']);

    await custom.deleteNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, name: 'rollout' });
    const deadline = Date.now() + 20_000;
    let after = await readRoute();
    const released = (r: HTTPRoute) => r.spec.rules!.length === 1 && r.spec.rules![0]!.backendRefs![0]!.weight === 100;
    while (!released(after) && Date.now() < deadline) {
      await sleep(100);
      after = await readRoute();
    }
    expect(after.spec.rules).toEqual(
      before.spec.rules!.map((r) => ({ ...r, backendRefs: r.backendRefs!.map((b) => ({ ...b, weight: b.name === 'stable-svc' ? 100 : 0 })) })),
    );
    expect(after.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('a Rollout deleted while no watch ran (issue #21): the first sweep lists the HTTPRoutes and releases its entry from what it records', async () => {
    const c = cluster();
    const ns = await c.createNamespace('gw-swept');
    await custom.createNamespacedCustomObject({ ...ROUTES, namespace: ns, body: httpRoute(ns) });
    // A second route holding an entry of a Rollout that still exists: the sweep leaves it alone.
    await custom.createNamespacedCustomObject({ ...ROUTES, namespace: ns, body: { ...httpRoute(ns), metadata: { name: 'kept', namespace: ns } } });
    const kc = c.sidecarConfig();
    const gateway = createGatewayRouter({ routes: createHTTPRouteClient(kc), pluginName: PLUGIN });
    const gone = (await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, body: gatewayRollout(ns) })) as Rollout;
    const stays = gatewayRollout(ns);
    stays.metadata.name = 'stays';
    stays.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: { httpRoute: 'kept' } };
    const kept = (await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, body: stays })) as Rollout;
    await gateway.setWeight(gone, 30, []);
    await gateway.setHeaderRoute(gone, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await gateway.setWeight(kept, 40, []);
    await custom.deleteNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, name: 'rollout' });

    const readRoute = async (name: string) => JSON.parse(JSON.stringify(await custom.getNamespacedCustomObject({ ...ROUTES, namespace: ns, name }))) as HTTPRoute;
    const before = await readRoute('kept');
    const asSidecar = kc.makeApiClient(CustomObjectsApi);
    const readRollout = async (namespace: string, name: string) => {
      try {
        return (await asSidecar.getNamespacedCustomObject({ ...ROLLOUTS, namespace, name })) as Rollout;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    };
    const outcomes: string[] = [];
    const controller = testCleanup({
      pluginName: PLUGIN,
      albIngressClasses: ['alb'],
      releaser: createReleaser({ ingresses: createIngressClient(kc) }),
      gatewayRoutes: gatewayRouteCleanup({
        pluginName: PLUGIN,
        release: (r) => gateway.release(r),
        listRoutes: listAllGatewayRoutes(kc),
        releaseOwner: (ref, owner) => gateway.releaseOwner(ref, owner),
        onOutcome: (o) => outcomes.push(o),
      }),
      readRollout,
    }).controller;
    // The sidecar's start: the watch lists the Rollouts (the deleted one is not among them) and sweeps once.
    watch = startRolloutWatch({ kc, controller, sweepEveryMs: 3_600_000, retryDelayMs: 500 });
    await watch.synced();
    const deadline = Date.now() + 20_000;
    let after = await readRoute('shop');
    while (after.metadata.annotations?.[OWNED_ANNOTATION] !== undefined && Date.now() < deadline) {
      await sleep(100);
      after = await readRoute('shop');
    }
    expect(after.spec.rules).toEqual(
      httpRoute(ns).spec.rules!.map((r) => ({ ...r, backendRefs: r.backendRefs!.map((b) => ({ group: '', kind: 'Service', ...b, weight: b.name === 'stable-svc' ? 100 : 0 })) })),
    );
    expect(after.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    expect(outcomes).toEqual(['released']);
    // The other Rollout's route: untouched (same resourceVersion), its entry still there.
    const stillKept = await readRoute('kept');
    expect(stillKept.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(Object.keys(JSON.parse(stillKept.metadata.annotations![OWNED_ANNOTATION]!))).toEqual([`${ns}/stays`]);
  });

  it('a Rollout that moves from Ingress mode to Gateway mode releases its Ingress (an update event)', async () => {
    const { c, ns, ingressRouter, createRollout } = await setup('gw-moved');
    await c.create(ingress({ namespace: ns }));
    const ro = await createRollout(rollout({ namespace: ns }));
    await ingressRouter.setWeight(ro, 30, []);
    expect(managedOf(await c.readIngress(ns, 'ingress'))).toHaveProperty('rollout');

    await custom.patchNamespacedCustomObject(
      { ...ROLLOUTS, namespace: ns, name: 'rollout', body: { spec: { strategy: { canary: { trafficRouting: { plugins: { [PLUGIN]: { ingress: null, servicePort: null, httpRoute: 'shop' } } } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const deadline = Date.now() + 20_000;
    let after = await c.readIngress(ns, 'ingress');
    while ('rollout' in managedOf(after) && Date.now() < deadline) {
      await sleep(100);
      after = await c.readIngress(ns, 'ingress');
    }
    expect(managedOf(after)).toEqual({});
    expect(after.metadata.annotations?.[`${PREFIX}/actions.stable-svc`]).toBe(
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-svc","ServicePort":"80","Weight":100}]}}',
    );
  });
});
