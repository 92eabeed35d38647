// RBAC proof: the ClusterRole shipped in deploy/, bound to a ServiceAccount on a real API server with
// `--authorization-mode=RBAC`, grants what the sidecar does (asked of the server itself through
// SelfSubjectAccessReview) and nothing beyond: requests outside it are refused with 403.
import { describe, expect, it } from 'vitest';
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
  type V1Ingress,
} from '@kubernetes/client-node';
import { skipKubeTests } from '../support/kube/assets.js';
import { grantClusterRole, shippedClusterRoles } from '../support/kube/rbac.js';
import { useCluster } from '../support/kube/cluster.js';
import { createIngressClient } from '../../src/k8s/ingress-client.js';
import { createIngressRouter } from '../../src/modes/ingress/router.js';
import { ingress, PLUGIN, rollout } from '../support/kube/fixtures.js';

/** What the sidecar's code calls, cluster-wide (Rollout watch, Ingress sweep) or in a Rollout's namespace. */
const NEEDED: Array<[verb: string, group: string, resource: string]> = [
  ['get', 'networking.k8s.io', 'ingresses'],
  ['patch', 'networking.k8s.io', 'ingresses'],
  ['list', 'networking.k8s.io', 'ingresses'],
  ['list', 'argoproj.io', 'rollouts'],
  ['watch', 'argoproj.io', 'rollouts'],
  ['create', '', 'events'],
  ['get', '', 'services'],
  ['list', 'discovery.k8s.io', 'endpointslices'],
  ['list', 'elbv2.k8s.aws', 'targetgroupbindings'],
  ['list', 'eks.amazonaws.com', 'targetgroupbindings'],
  ['get', 'gateway.networking.k8s.io', 'httproutes'],
  ['patch', 'gateway.networking.k8s.io', 'httproutes'],
  ['get', 'gateway.networking.k8s.io', 'grpcroutes'],
  ['patch', 'gateway.networking.k8s.io', 'grpcroutes'],
  ['get', 'gateway.networking.k8s.io', 'gateways'],
  ['get', 'gateway.networking.k8s.io', 'gatewayclasses'],
];

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code as number;
    throw err;
  }
}

describe.skipIf(skipKubeTests())('RBAC: the ClusterRole from deploy/ on a real API server', () => {
  const cluster = useCluster();

  it('deploy/ ships a ClusterRole, and the test cluster serves it unchanged', async () => {
    const shipped = shippedClusterRoles();
    expect(shipped.length).toBeGreaterThan(0);
    const rbac = cluster().admin.makeApiClient(RbacAuthorizationV1Api);
    for (const { role } of shipped) {
      const live = await rbac.readClusterRole({ name: role.metadata?.name ?? '' });
      expect(JSON.parse(JSON.stringify(live.rules))).toEqual(JSON.parse(JSON.stringify(role.rules)));
    }
  });

  it.each(NEEDED)('the server allows the sidecar to %s %s/%s in any namespace', async (verb, group, resource) => {
    const c = cluster();
    const review = await c
      .sidecarConfig()
      .makeApiClient(AuthorizationV1Api)
      .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, group, resource, namespace: 'some-app' } } } });
    expect(review.status?.allowed, `${verb} ${group}/${resource}: ${review.status?.reason ?? ''}`).toBe(true);
  });

  it('requests outside the role are refused with 403', async () => {
    const c = cluster();
    const ns = await c.createNamespace('outside');
    await c.create(ingress({ namespace: ns }));
    await c.admin
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespace: ns, body: rollout({ namespace: ns }) });
    const kc = c.sidecarConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const net = kc.makeApiClient(NetworkingV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const refused: Array<[string, Promise<unknown>]> = [
      ['list secrets', core.listNamespacedSecret({ namespace: ns })],
      ['create configmaps', core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } })],
      ['delete ingresses', net.deleteNamespacedIngress({ namespace: ns, name: 'ingress' })],
      ['create ingresses', net.createNamespacedIngress({ namespace: ns, body: ingress({ namespace: ns, name: 'new' }) as V1Ingress })],
      ['delete rollouts', custom.deleteNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name: 'rollout' })],
      ['create namespaces', core.createNamespace({ body: { metadata: { name: `${ns}-x` } } })],
    ];
    const codes = await Promise.all(refused.map(async ([what, p]) => [what, await status(p)]));
    expect(codes).toEqual(refused.map(([what]) => [what, 403]));
    // The same Ingress is still patchable by the sidecar: the refusals are about the verb, not the identity.
    expect(await status(net.readNamespacedIngress({ namespace: ns, name: 'ingress' }))).toBe(200);
  });

  it('the proof can fail: the shipped role without Ingress patch makes SetWeight fail with 403 and the fix', async () => {
    const c = cluster();
    const ns = await c.createNamespace('reduced');
    await c.create(ingress({ namespace: ns }));
    const shipped = shippedClusterRoles()[0]!.role;
    const rules = (shipped.rules ?? []).map((r) =>
      (r.resources ?? []).includes('ingresses') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r,
    );
    await grantClusterRole(c.env, 'reduced', rules, ns, 'reduced');
    const kc = c.env.configForToken(await c.env.serviceAccountToken(ns, 'reduced'));
    const router = createIngressRouter({ ingresses: createIngressClient(kc), pluginName: PLUGIN, albIngressClasses: ['alb'] });
    await expect(router.setWeight(rollout({ namespace: ns }), 10, [])).rejects.toThrow(
      /forbidden.*grant the plugin get\/patch on networking\.k8s\.io ingresses/s,
    );
  });
});
