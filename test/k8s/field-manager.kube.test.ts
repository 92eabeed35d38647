// What a real kube-apiserver records for the sidecar's Ingress writes, for Argo CD users (docs/argocd.md): the
// composed sidecar (its own KubeConfig, so its own User-Agent) drives a setWeight and a header route; the
// server names the field manager after the User-Agent (`rollouts-plugin-trafficrouter-alb`), and the documented
// jqPathExpressions turn the Ingress as the server stored it back into the one that was applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkingV1Api, type V1ManagedFieldsEntry } from '@kubernetes/client-node';
import type { Ingress } from '../../src/k8s/ingress.js';
import { createLogger } from '../../src/logger.js';
import { parseSettings } from '../../src/settings.js';
import { startSidecar, type Sidecar } from '../../src/sidecar.js';
import { actionKey, conditionKey } from '../../src/modes/ingress/keys.js';
import { PRODUCT } from '../../src/version.js';
import { documentedEntries, hasGo, normalize } from '../argocd/support.js';
import { skipKubeTests } from '../support/kube/assets.js';
import { useCluster } from '../support/kube/cluster.js';
import { ingress, MANAGED, PREFIX, rollout } from '../support/kube/fixtures.js';

describe.skipIf(skipKubeTests())('the field manager of the sidecar’s Ingress patches', () => {
  const cluster = useCluster();
  let sidecar: Sidecar | undefined;
  let ns = '';
  let applied: Ingress;
  let stored: Ingress & { metadata: { managedFields?: V1ManagedFieldsEntry[] } };

  beforeAll(async () => {
    const c = cluster();
    const kubeconfig = c.env.writeKubeconfig('sidecar-fm', c.sidecar.token);
    const { settings } = parseSettings(
      ['--kubeconfig', kubeconfig, '--plugin-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--aws-region', 'us-west-2', '--cleanup=false'],
      {},
    );
    sidecar = await startSidecar(settings, { logger: createLogger('silent') });
    ns = await c.createNamespace('argocd');
    applied = ingress({ namespace: ns });
    await c.create(applied);
    const r = rollout({ namespace: ns, managedRoutes: ['beta-users'] });
    await sidecar.router.setWeight(r, 10, []);
    await sidecar.router.setHeaderRoute(r, { name: 'beta-users', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    stored = JSON.parse(
      JSON.stringify(await c.admin.makeApiClient(NetworkingV1Api).readNamespacedIngress({ namespace: ns, name: 'ingress' })),
    ) as typeof stored;
  });
  afterAll(async () => {
    await sidecar?.close();
  });

  it('is rollouts-plugin-trafficrouter-alb, owning the annotations and rules it wrote', () => {
    expect(stored.metadata.annotations?.[conditionKey(PREFIX, 'beta-users')]).toBeDefined();
    const managers = (stored.metadata.managedFields ?? []).map((m) => m.manager);
    expect(managers).toContain(PRODUCT);
    // The other entry is the test's own create (the harness client, recorded as `node-fetch`): it keeps what it
    // wrote, and none of the plugin's keys.
    for (const other of stored.metadata.managedFields!.filter((m) => m.manager !== PRODUCT)) {
      expect(JSON.stringify(other.fieldsV1)).not.toMatch(/actions\.|conditions\.|managed-annotations/);
    }
    const ours = stored.metadata.managedFields!.filter((m) => m.manager === PRODUCT);
    expect(ours.map((m) => m.operation)).toEqual(['Update']);
    const fields = ours[0]!.fieldsV1 as { 'f:metadata'?: { 'f:annotations'?: Record<string, unknown> }; 'f:spec'?: Record<string, unknown> };
    expect(Object.keys(fields['f:metadata']?.['f:annotations'] ?? {}).sort()).toEqual(
      [actionKey(PREFIX, 'stable-svc'), actionKey(PREFIX, 'beta-users'), conditionKey(PREFIX, 'beta-users'), MANAGED].map((k) => `f:${k}`).sort(),
    );
    expect(Object.keys(fields['f:spec'] ?? {})).toEqual(['f:rules']);
  });

  it.skipIf(!hasGo)('is ignored by the documented jqPathExpressions: the stored Ingress compares equal to the applied one', () => {
    // What Argo CD leaves out of any comparison: the server's own metadata and the status.
    const live = JSON.parse(JSON.stringify(stored)) as Record<string, unknown> & { metadata: Record<string, unknown> };
    for (const k of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields']) delete live.metadata[k];
    delete live.status;
    const [app] = documentedEntries().filter((d) => d.form === 'application');
    const expressions = app!.entries.flatMap((e) => e.jqPathExpressions ?? []);
    const out = normalize(expressions, [applied, live]);
    expect(out.errors.flat().filter(Boolean)).toEqual([]);
    expect(out.objects[1]).toEqual(out.objects[0]);
  });
});
