// The kustomize rendering of deploy/kustomize (with the pinned release's install.yaml from its Go module, as
// test/deploy/kustomize-build.test.ts renders it) installed on a real kube-apiserver, as
// `kubectl create namespace argo-rollouts && kubectl apply -k deploy/kustomize` would: the server accepts
// every object (its own validation and defaulting, not ours), stores the controller pod with the plugin's
// pieces, and its RBAC authorizer grants the controller's ServiceAccount what the plugin calls, through the
// plugin's ClusterRoleBinding. No kubelet runs here, so no pod starts: that is the end-to-end suite's part.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { skipKubeTests } from '../support/kube/assets.js';
import { startEnvtest, type Envtest } from '../support/kube/envtest.js';
import { REQUIRED_ACCESS } from './checks.js';
import { docId, pinnedArgoRolloutsVersion, renderOverlay, renderUnavailable, upstreamInstallYaml, type K8sDoc } from './render.js';

const NAMESPACE = 'argo-rollouts';
const unavailable = renderUnavailable();
if (unavailable) console.warn(`test/deploy/install-manifests.kube.test.ts: skipped: ${unavailable}`);

describe.skipIf(skipKubeTests() || unavailable !== undefined)('deploy/kustomize rendered and installed on kube-apiserver', () => {
  let env: Envtest | undefined;
  let rendered: K8sDoc[] = [];
  const created: string[] = [];
  const failed: string[] = [];

  beforeAll(async () => {
    const upstream = upstreamInstallYaml(pinnedArgoRolloutsVersion());
    if (!upstream.ok) throw new Error(upstream.reason);
    rendered = renderOverlay(upstream.installYaml);
    // A bare control plane: the release's own CRDs come from its install.yaml.
    env = await startEnvtest({ crds: false });
    await env.adminConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const api = KubernetesObjectApi.makeApiClient(env.adminConfig());
    const crdsFirst = [...rendered].sort((a, b) => Number(b.kind === 'CustomResourceDefinition') - Number(a.kind === 'CustomResourceDefinition'));
    for (const doc of crdsFirst) {
      try {
        await api.create(doc as KubernetesObject);
        created.push(docId(doc));
      } catch (err) {
        failed.push(`${docId(doc)}: ${err instanceof ApiException ? `HTTP ${err.code} ${String(err.body).slice(0, 300)}` : String(err)}`);
      }
    }
  }, 300_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('accepts every object of the rendering', () => {
    expect(failed).toEqual([]);
    expect(created.sort()).toEqual(rendered.map(docId).sort());
    expect(created).toContain('CustomResourceDefinition/rollouts.argoproj.io');
  });

  it('stores the controller Deployment with the release’s controller, the sidecar, the init container and the volume', async () => {
    const dep = await env!.adminConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: NAMESPACE, name: 'argo-rollouts' });
    const pod = dep.spec!.template.spec!;
    expect(pod.containers.map((c) => [c.name, c.image])).toEqual([
      ['argo-rollouts', `quay.io/argoproj/argo-rollouts:${pinnedArgoRolloutsVersion()}`],
      ['alb-plugin', expect.stringMatching(/^ghcr\.io\/argoproj-labs\/rollouts-plugin-trafficrouter-alb:v/)],
    ]);
    expect(pod.initContainers!.map((c) => c.name)).toEqual(['alb-plugin-handshake']);
    expect(pod.volumes!.map((v) => v.name).sort()).toEqual(['alb-plugin', 'plugin-bin', 'tmp']);
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'alb-plugin', mountPath: '/alb-plugin', readOnly: true });
    const cm = await env!.adminConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: NAMESPACE, name: 'argo-rollouts-config' });
    expect(cm.data?.trafficRouterPlugins).toContain('name: "argoproj-labs/alb"');
    expect(cm.data?.metricProviderPlugins).toContain('name: "argoproj-labs/alb-analysis"');
  });

  const serviceAccount = `system:serviceaccount:${NAMESPACE}:argo-rollouts`;
  async function allowed(verb: string, group: string, resource: string, subresource?: string): Promise<boolean> {
    const review = await env!.adminConfig().makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: serviceAccount,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
          resourceAttributes: { verb, group, resource, namespace: 'shop', ...(subresource ? { subresource } : {}) },
        },
      },
    });
    return review.status?.allowed === true;
  }

  it('lets the controller’s ServiceAccount do what the plugin calls, as the server’s RBAC authorizer decides', async () => {
    const denied: string[] = [];
    for (const [group, resource, verb] of REQUIRED_ACCESS) if (!(await allowed(verb, group, resource))) denied.push(`${verb} ${resource}.${group}`);
    expect(denied).toEqual([]);
    // status.alb(s) (src/status): Argo's own ClusterRole lets the controller's ServiceAccount patch the status
    // subresource, so the plugin needs no grant of its own for it.
    expect(await allowed('patch', 'argoproj.io', 'rollouts', 'status')).toBe(true);
    // And the authorizer does say no: the ServiceAccount cannot rewrite RBAC.
    expect(await allowed('create', 'rbac.authorization.k8s.io', 'clusterroles')).toBe(false);
  });

  it('owes part of that to the plugin’s ClusterRoleBinding (the release’s own role has no EndpointSlices)', async () => {
    expect(await allowed('list', 'discovery.k8s.io', 'endpointslices')).toBe(true);
    await env!.adminConfig().makeApiClient(RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: 'argo-rollouts-alb-plugin' });
    await expect.poll(() => allowed('list', 'discovery.k8s.io', 'endpointslices'), { timeout: 10_000 }).toBe(false);
    // What the release's role grants on its own is unchanged.
    expect(await allowed('patch', 'networking.k8s.io', 'ingresses')).toBe(true);
  });
});
