// The composed sidecar (src/sidecar.ts), started as a user would with `--kubeconfig` pointing at the
// ServiceAccount bound only to deploy/'s ClusterRole: it becomes ready against the real API server, its own
// Rollout watch releases a deleted Rollout's Ingress, and its JSON API reads Rollouts with that identity.
// Beside it runs a second sidecar of another controller pod: the controller of the first holds Argo's leader
// Lease (written as client-go writes it), so the second is standby: ready, saying so in /readyz and the
// `alb_plugin_leader` gauge, and releasing nothing. The first reads its kubeconfig as JSON (the sidecar's own
// loader, the one a pod takes), the second as YAML (client-node's KubeConfig).
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CustomObjectsApi, loadYaml } from '@kubernetes/client-node';
import { DEFAULT_LEASE_NAME } from '../src/leadership/lease.js';
import type { Ingress } from '../src/k8s/ingress.js';
import { createLogger } from '../src/logger.js';
import { parseSettings } from '../src/settings.js';
import { startSidecar, type Sidecar } from '../src/sidecar.js';
import { skipKubeTests } from './support/kube/assets.js';
import { useCluster } from './support/kube/cluster.js';
import { action, ingress, MANAGED, PREFIX, rollout } from './support/kube/fixtures.js';
import { startElector, type Elector } from './support/kube/lease.js';

const ACTION = `${PREFIX}/actions.stable-svc`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipKubeTests())('the sidecar against kube-apiserver with the shipped RBAC', () => {
  const cluster = useCluster();
  let sidecar: Sidecar | undefined;
  let standby: Sidecar | undefined;
  let elector: Elector | undefined;
  let leaseNamespace = '';

  beforeAll(async () => {
    const c = cluster();
    // The controller of pod "argo-rollouts-a" leads, with Argo's defaults (lease 15 s, retry 2 s).
    leaseNamespace = await c.createNamespace('argo-rollouts');
    elector = startElector({ kc: c.admin, namespace: leaseNamespace, name: DEFAULT_LEASE_NAME, identity: `argo-rollouts-a_${randomUUID()}` });
    await elector.untilLeader(10_000);
    // The leading sidecar reads a JSON kubeconfig (CA and token: the sidecar's own light loader, as in a pod),
    // the standby the YAML one (client-node's KubeConfig, imported only for such kubeconfigs).
    const yamlKubeconfig = c.env.writeKubeconfig('sidecar', c.sidecar.token);
    const jsonKubeconfig = `${yamlKubeconfig}.json`;
    writeFileSync(jsonKubeconfig, JSON.stringify(loadYaml(readFileSync(yamlKubeconfig, 'utf8'))), { mode: 0o600 });
    const start = (hostname: string, kubeconfig: string) =>
      startSidecar(
        parseSettings(
          ['--kubeconfig', kubeconfig, '--plugin-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--aws-region', 'us-west-2', '--leader-election-namespace', leaseNamespace, '--leader-election-hostname', hostname],
          {},
        ).settings,
        { logger: createLogger('silent') },
      );
    sidecar = await start('argo-rollouts-a', jsonKubeconfig);
    standby = await start('argo-rollouts-b', yamlKubeconfig);
  });
  afterAll(async () => {
    await sidecar?.close();
    await standby?.close();
    await elector?.stop();
  });

  const metricsOf = async (s: Sidecar | undefined) => (await fetch(`${s!.httpAddress}/metrics`)).text();
  const leadershipOf = async (s: Sidecar | undefined) =>
    ((await (await fetch(`${s!.httpAddress}/readyz`)).json()) as { checks: Array<{ name: string; detail?: string }> }).checks.find((x) => x.name === 'leadership')?.detail;

  it('leads beside the leading controller, within two polls', async () => {
    await vi.waitFor(async () => expect(await metricsOf(sidecar)).toMatch(/^alb_plugin_leader 1$/m), { timeout: 10_000, interval: 200 });
    expect(await leadershipOf(sidecar)).toMatch(new RegExp(`^leader: this pod's controller holds the Lease ${leaseNamespace}/argo-rollouts-controller-lock \\(argo-rollouts-a_`));
  });

  it('the other pod\'s sidecar is standby: ready, and says so in /readyz and the gauge', async () => {
    const res = await fetch(`${standby!.httpAddress}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready' });
    expect(await leadershipOf(standby)).toMatch(new RegExp(`^standby: another pod's controller holds the Lease ${leaseNamespace}/argo-rollouts-controller-lock \\(argo-rollouts-a_`));
    expect(await metricsOf(standby)).toMatch(/^alb_plugin_leader 0$/m);
  });

  it('is ready: the plugin listener is up and Kubernetes answers with the ServiceAccount token', async () => {
    const res = await fetch(`${sidecar!.httpAddress}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: expect.arrayContaining([{ name: 'kubernetes', ok: true }]) });
  });

  it('releases the Ingress of a Rollout deleted on the server', async () => {
    const c = cluster();
    const ns = await c.createNamespace('sidecar');
    // The state a SetWeight 30 left behind.
    const ing = ingress({ namespace: ns });
    ing.metadata.annotations = { ...ing.metadata.annotations, [ACTION]: action('canary-svc', 'stable-svc', 80, 30), [MANAGED]: `{"rollout":["${ACTION}"]}` };
    await c.create(ing);
    const custom = c.admin.makeApiClient(CustomObjectsApi);
    const rollouts = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespace: ns };
    await custom.createNamespacedCustomObject({ ...rollouts, body: rollout({ namespace: ns }) });

    // Whichever way the delete meets the sidecar's watch (seen listed, seen added, or never seen), the watch
    // event or the sweep that follows the first list releases the Ingress.
    await custom.deleteNamespacedCustomObject({ ...rollouts, name: 'rollout' });

    let after: Ingress | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      after = await c.readIngress(ns, 'ingress');
      if (!after.metadata.annotations?.[MANAGED]?.includes('"rollout"')) break;
      await sleep(100);
    }
    expect(after?.metadata.annotations?.[MANAGED] ?? '{}').not.toContain('"rollout"');
    expect(after?.metadata.annotations?.[ACTION]).toBe(
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-svc","ServicePort":"80","Weight":100}]}}',
    );
    // The leader released it; the standby's cleanup never ran.
    expect(await metricsOf(sidecar)).toMatch(/^alb_plugin_ingress_cleanups_total\{outcome="released"\} 1$/m);
    expect(await metricsOf(standby)).not.toMatch(/^alb_plugin_ingress_cleanups_total\{/m);
  });

  it('answers 404 with a reason for a Rollout the server does not have', async () => {
    const c = cluster();
    const ns = await c.createNamespace('api');
    const res = await fetch(`${sidecar!.httpAddress}/api/v1/rollouts/${ns}/nope/verify`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ALB_ERR_ROLLOUT_NOT_FOUND');
  });
});
