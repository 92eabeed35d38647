// Renders the overlay with kustomize (kubectl's built-in) against the real install.yaml of the Argo Rollouts
// release it pins, taken from that release's Go module (test/deploy/render.ts), and checks the result as a
// whole: the release is the one the tests run, every upstream object is still there and untouched apart from
// the namespace, the controller keeps its container and gains one read-only mount, the pod gains the sidecar,
// the init container and the volume, the ConfigMap gains the plugin entry, and the RBAC binds the controller's
// ServiceAccount to what the plugin calls. test/deploy/install-manifests.kube.test.ts installs the same rendering on
// a real kube-apiserver. Skipped, saying why, when kubectl or the module is unavailable.
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadYaml } from '@kubernetes/client-node';
import { allows, checkPodAndEntry, read, REQUIRED_ACCESS, type Container, type PluginEntry, type PolicyRule, type Volume } from './checks.js';
import {
  docId,
  loadInstallYaml,
  pinnedArgoRolloutsVersion,
  renderOverlay,
  renderUnavailable,
  testedArgoRolloutsVersion,
  upstreamInstallYaml,
  type K8sDoc,
} from './render.js';

const CLUSTER_SCOPED = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Namespace']);
const NAMESPACE = 'argo-rollouts';
const pkg = JSON.parse(read('package.json')) as { version: string };
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

interface PodSpec {
  serviceAccountName: string;
  securityContext?: object;
  initContainers: Container[];
  containers: Array<Container & Record<string, unknown>>;
  volumes: Volume[];
}
type Deployment = K8sDoc & { spec: { template: { spec: PodSpec } } };

describe('the pinned Argo Rollouts release', () => {
  it('is the one the tests run (test/conformance/go.mod, the kube tests’ CRD)', () => {
    expect(pinnedArgoRolloutsVersion()).toBe(testedArgoRolloutsVersion());
    expect(read('scripts/kube/build.sh')).toContain(`ARGO_ROLLOUTS_VERSION:-${testedArgoRolloutsVersion()}}`);
  });

  it('runs the controller image of that release', () => {
    const k = loadYaml<{ images: Array<{ name: string; newTag: string }> }>(read('deploy/kustomize/kustomization.yaml'));
    expect(k.images).toContainEqual({ name: 'quay.io/argoproj/argo-rollouts', newTag: pinnedArgoRolloutsVersion() });
  });

  it('runs the plugin image of this version', () => {
    const k = loadYaml<{ images: Array<{ name: string; newTag: string }> }>(read('deploy/kustomize/kustomization.yaml'));
    expect(k.images).toContainEqual({ name: 'ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-alb', newTag: `v${pkg.version}` });
  });
});

const unavailable = renderUnavailable();
if (unavailable) console.warn(`test/deploy/kustomize-build.test.ts: rendering skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('kustomize build of deploy/kustomize with the release’s install.yaml', () => {
  const upstreamFile = () => {
    const u = upstreamInstallYaml(pinnedArgoRolloutsVersion());
    if (!u.ok) throw new Error(u.reason);
    return u.installYaml;
  };
  let cache: { upstream: K8sDoc[]; rendered: K8sDoc[] } | undefined;
  const docs = () => (cache ??= { upstream: loadInstallYaml(upstreamFile()), rendered: renderOverlay(upstreamFile()) });
  const find = <T extends K8sDoc>(list: K8sDoc[], id: string) => {
    const d = list.find((x) => docId(x) === id);
    expect(d, id).toBeDefined();
    return d as T;
  };

  it('keeps every upstream object and adds only the plugin’s ClusterRole and binding', () => {
    const { upstream, rendered } = docs();
    expect(upstream.length).toBeGreaterThan(10);
    expect(rendered.map(docId).sort()).toEqual(
      [...upstream.map(docId), 'ClusterRole/argo-rollouts-alb-plugin', 'ClusterRoleBinding/argo-rollouts-alb-plugin'].sort(),
    );
    for (const d of rendered) {
      if (CLUSTER_SCOPED.has(d.kind)) expect(d.metadata.namespace, docId(d)).toBeUndefined();
      else expect(d.metadata.namespace, docId(d)).toBe(NAMESPACE);
    }
  });

  it('changes no upstream object but the controller Deployment and the ConfigMap (besides the namespace)', () => {
    const { upstream, rendered } = docs();
    const changed = upstream
      .filter((u) => {
        const r = find(rendered, docId(u));
        const expected = CLUSTER_SCOPED.has(u.kind) ? u : { ...u, metadata: { ...u.metadata, namespace: NAMESPACE } };
        return !isDeepStrictEqual(plain(r), plain(expected));
      })
      .map(docId);
    expect(changed.sort()).toEqual(['ConfigMap/argo-rollouts-config', 'Deployment/argo-rollouts']);
  });

  it('gives the controller the release’s image and one read-only mount, and nothing else', () => {
    const { upstream, rendered } = docs();
    const before = find<Deployment>(upstream, 'Deployment/argo-rollouts').spec.template.spec;
    const after = find<Deployment>(rendered, 'Deployment/argo-rollouts').spec.template.spec;
    const c0 = before.containers.find((c) => c.name === 'argo-rollouts')!;
    const c1 = after.containers.find((c) => c.name === 'argo-rollouts')!;
    expect(c0.image).toBe('quay.io/argoproj/argo-rollouts:latest');
    expect(c1.image).toBe(`quay.io/argoproj/argo-rollouts:${pinnedArgoRolloutsVersion()}`);
    const { image: _i0, volumeMounts: m0, ...rest0 } = c0;
    const { image: _i1, volumeMounts: m1, ...rest1 } = c1;
    expect(rest1).toEqual(rest0);
    expect(m1).toEqual(expect.arrayContaining(m0!));
    expect(m1!.filter((m) => !m0!.some((x) => x.name === m.name))).toEqual([{ name: 'alb-plugin', mountPath: '/alb-plugin', readOnly: true }]);
    // The pod-level settings (non-root, ServiceAccount) are the release's.
    expect(after.securityContext).toEqual(before.securityContext);
    expect(after.serviceAccountName).toBe(before.serviceAccountName);
  });

  it('adds the sidecar, the init container, the volume and the plugin entry consistently', () => {
    const { upstream, rendered } = docs();
    const before = find<Deployment>(upstream, 'Deployment/argo-rollouts').spec.template.spec;
    const pod = find<Deployment>(rendered, 'Deployment/argo-rollouts').spec.template.spec;
    expect(pod.containers.map((c) => c.name)).toEqual(['argo-rollouts', 'alb-plugin']);
    expect(pod.initContainers.map((c) => c.name)).toEqual(['alb-plugin-handshake']);
    expect(pod.volumes).toEqual(expect.arrayContaining(before.volumes));
    expect(pod.volumes.filter((v) => !before.volumes.some((x) => x.name === v.name)).map((v) => v.name)).toEqual(['alb-plugin']);
    const sidecar = pod.containers.find((c) => c.name === 'alb-plugin')!;
    expect(sidecar.image).toBe(`ghcr.io/argoproj-labs/rollouts-plugin-trafficrouter-alb:v${pkg.version}`);
    const cm = find<K8sDoc & { data: { trafficRouterPlugins: string; metricProviderPlugins: string } }>(rendered, 'ConfigMap/argo-rollouts-config');
    const entries = loadYaml<PluginEntry[]>(cm.data.trafficRouterPlugins);
    const metricEntries = loadYaml<PluginEntry[]>(cm.data.metricProviderPlugins);
    checkPodAndEntry({
      initContainers: pod.initContainers,
      sidecar,
      controllerMounts: pod.containers.find((c) => c.name === 'argo-rollouts')!.volumeMounts,
      volumes: pod.volumes,
      entries,
      metricEntries,
    });
    const pluginYaml = loadYaml<{ data: { trafficRouterPlugins: string; metricProviderPlugins: string } }>(read('plugin.yaml'));
    expect(entries).toEqual(loadYaml(pluginYaml.data.trafficRouterPlugins));
    expect(metricEntries).toEqual(loadYaml(pluginYaml.data.metricProviderPlugins));
  });

  it('binds the controller’s ServiceAccount to a ClusterRole granting what the plugin calls', () => {
    const { rendered } = docs();
    const pod = find<Deployment>(rendered, 'Deployment/argo-rollouts').spec.template.spec;
    const sa = find(rendered, `ServiceAccount/${pod.serviceAccountName}`);
    const binding = find<K8sDoc & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> }>(
      rendered,
      'ClusterRoleBinding/argo-rollouts-alb-plugin',
    );
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    const role = find<K8sDoc & { rules: PolicyRule[] }>(rendered, `${binding.roleRef.kind}/${binding.roleRef.name}`);
    for (const [g, r, v] of REQUIRED_ACCESS) expect(allows(role.rules, g, r, v), `${v} ${r}.${g}`).toBe(true);
  });

  it('the controller’s own role already lets it read its leader Lease, which the plugin’s role repeats', () => {
    const { rendered } = docs();
    const binding = find<K8sDoc & { roleRef: { kind: string; name: string } }>(rendered, 'ClusterRoleBinding/argo-rollouts');
    const role = find<K8sDoc & { rules: PolicyRule[] }>(rendered, `${binding.roleRef.kind}/${binding.roleRef.name}`);
    for (const verb of ['get', 'create', 'update']) expect(allows(role.rules, 'coordination.k8s.io', 'leases', verb), verb).toBe(true);
  });
});
