// The deletion cleanup fed by a real watch: Rollouts are created, edited and deleted on the API server,
// and the Ingress is read back until the release shows up. The watch, the sweep's Ingress list and the
// patches all run as the sidecar's ServiceAccount (deploy/ RBAC).
import { afterEach, describe, expect, it } from 'vitest';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { testCleanup } from '../support/cleanup.js';
import { createReleaser } from '../../src/modes/ingress/releaser.js';
import { startRolloutWatch, type RolloutWatch } from '../../src/cleanup/watch.js';
import { createIngressClient, listAllIngresses } from '../../src/k8s/ingress-client.js';
import type { Ingress } from '../../src/k8s/ingress.js';
import { createIngressRouter } from '../../src/modes/ingress/router.js';
import type { Rollout } from '../../src/core/rollout.js';
import { skipKubeTests } from '../support/kube/assets.js';
import { useCluster, type Cluster } from '../support/kube/cluster.js';
import { action, FOREIGN, ingress, MANAGED, PLUGIN, PREFIX, rollout } from '../support/kube/fixtures.js';

const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the Ingress until `done` holds; the bound only stops a broken watch from hanging the file. */
async function eventually(c: Cluster, ns: string, name: string, done: (ing: Ingress) => boolean): Promise<Ingress> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ing = await c.readIngress(ns, name);
    if (done(ing) || Date.now() > deadline) return ing;
    await sleep(100);
  }
}

function managedOf(ing: Ingress): Record<string, string[]> {
  const raw = ing.metadata.annotations?.[MANAGED];
  return raw ? (JSON.parse(raw) as Record<string, string[]>) : {};
}

describe.skipIf(skipKubeTests())('cleanup after Rollout deletion, from a real watch', () => {
  const cluster = useCluster();
  let watch: RolloutWatch | undefined;
  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
  });

  async function setup(ns: string) {
    const c = cluster();
    const kc = c.sidecarConfig();
    const ingresses = createIngressClient(kc);
    const controller = testCleanup({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser: createReleaser({ ingresses }), listIngresses: listAllIngresses(kc) }).controller;
    // The sweep is driven by hand here; the watch events alone must do the work.
    watch = startRolloutWatch({ kc, controller, sweepEveryMs: 3_600_000, retryDelayMs: 500 });
    await watch.synced();
    const router = createIngressRouter({ ingresses, pluginName: PLUGIN, albIngressClasses: ['alb'] });
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    const createRollout = async (ro: Rollout): Promise<Rollout> =>
      (await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, body: ro })) as Rollout;
    const deleteRollout = (name: string) => custom.deleteNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, name });
    return { c, router, custom, createRollout, deleteRollout };
  }

  it.each([
    { key: 'stableService', rootService: undefined },
    { key: 'rootService', rootService: 'root-svc' },
  ])('a deleted Rollout\'s action (keyed by $key) goes back fully to stable and its managed entry is dropped', async ({ rootService }) => {
    const c = cluster();
    const ns = await c.createNamespace('deleted');
    const actionService = rootService ?? 'stable-svc';
    await c.create(ingress({ namespace: ns, actionServices: [actionService] }));
    const { router, createRollout, deleteRollout } = await setup(ns);
    const ro = await createRollout(rollout({ namespace: ns, ...(rootService ? { rootService } : {}) }));
    await router.setWeight(ro, 40, []);

    await deleteRollout('rollout');
    const after = await eventually(c, ns, 'ingress', (ing) => !('rollout' in managedOf(ing)));
    expect(managedOf(after)).toEqual({});
    expect(after.metadata.annotations?.[`${PREFIX}/actions.${actionService}`]).toBe(
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-svc","ServicePort":"80","Weight":100}]}}',
    );
    expect(after.metadata.annotations?.[FOREIGN.key]).toBe(FOREIGN.value);
  });

  it('the watch\'s copy of a Rollout follows status-only updates (the JSON API and ping-pong roles read it)', async () => {
    const c = cluster();
    const ns = await c.createNamespace('status');
    const kc = c.sidecarConfig();
    const controller = testCleanup({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser: createReleaser({ ingresses: createIngressClient(kc) }), listIngresses: listAllIngresses(kc) }).controller;
    watch = startRolloutWatch({ kc, controller, sweepEveryMs: 3_600_000, retryDelayMs: 500 });
    await watch.synced();
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace: ns, body: rollout({ namespace: ns }) });
    for (const weight of [20, 50, 100, 0]) {
      await custom.patchNamespacedCustomObjectStatus(
        { ...ROLLOUTS, namespace: ns, name: 'rollout', body: { status: { canary: { weights: { canary: { weight }, stable: { weight: 100 - weight } } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    const deadline = Date.now() + 10_000;
    let seen: number | undefined;
    while (Date.now() < deadline) {
      seen = controller.get(ns, 'rollout')?.status?.canary?.weights?.canary?.weight;
      if (seen === 0) break;
      await sleep(100);
    }
    expect(seen).toBe(0);
  });

  it('deleting one of two Rollouts on a shared Ingress leaves the other\'s keys alone', async () => {
    const c = cluster();
    const ns = await c.createNamespace('shared');
    await c.create(ingress({ namespace: ns, actionServices: ['stable-a', 'stable-b'] }));
    const { router, createRollout, deleteRollout } = await setup(ns);
    const ra = await createRollout(rollout({ namespace: ns, name: 'rollout-a', stable: 'stable-a', canary: 'canary-a' }));
    const rb = await createRollout(rollout({ namespace: ns, name: 'rollout-b', stable: 'stable-b', canary: 'canary-b' }));
    await router.setWeight(ra, 30, []);
    await router.setWeight(rb, 60, []);

    await deleteRollout('rollout-a');
    const after = await eventually(c, ns, 'ingress', (ing) => !('rollout-a' in managedOf(ing)));
    expect(managedOf(after)).toEqual({ 'rollout-b': [`${PREFIX}/actions.stable-b`] });
    expect(after.metadata.annotations?.[`${PREFIX}/actions.stable-b`]).toBe(action('canary-b', 'stable-b', 80, 60));
    expect(JSON.parse(after.metadata.annotations?.[`${PREFIX}/actions.stable-a`] ?? '{}')).toEqual({
      Type: 'forward',
      ForwardConfig: { TargetGroups: [{ ServiceName: 'stable-a', ServicePort: '80', Weight: 100 }] },
    });
  });

  it('a Rollout that stops naming an Ingress releases it (an update event, not a delete)', async () => {
    const c = cluster();
    const ns = await c.createNamespace('renamed');
    for (const name of ['old-ing', 'new-ing']) await c.create(ingress({ namespace: ns, name }));
    const { router, custom, createRollout } = await setup(ns);
    const ro = await createRollout(rollout({ namespace: ns, ingresses: ['old-ing'] }));
    await router.setWeight(ro, 20, []);

    await custom.patchNamespacedCustomObject(
      { ...ROLLOUTS, namespace: ns, name: 'rollout', body: { spec: { strategy: { canary: { trafficRouting: { plugins: { [PLUGIN]: { ingress: 'new-ing', servicePort: 80 } } } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = await eventually(c, ns, 'old-ing', (ing) => !('rollout' in managedOf(ing)));
    expect(managedOf(after)).toEqual({});
    expect(after.metadata.annotations?.[`${PREFIX}/actions.stable-svc`]).toContain('"Weight":100');
  });

  it('header routes of a deleted Rollout are removed with their paths', async () => {
    const c = cluster();
    const ns = await c.createNamespace('routes');
    await c.create(ingress({ namespace: ns }));
    const { router, createRollout, deleteRollout } = await setup(ns);
    const ro = await createRollout(rollout({ namespace: ns, managedRoutes: ['canary-header'] }));
    await router.setWeight(ro, 10, []);
    await router.setHeaderRoute(ro, { name: 'canary-header', match: [{ headerName: 'X-Canary', headerValue: { exact: 'yes' } }] });

    await deleteRollout('rollout');
    const after = await eventually(c, ns, 'ingress', (ing) => !('rollout' in managedOf(ing)));
    expect(Object.keys(after.metadata.annotations ?? {}).filter((k) => k.includes('canary-header'))).toEqual([]);
    expect((after.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend.service?.name))).toEqual(['stable-svc']);
  });
});
