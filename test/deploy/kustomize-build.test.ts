// Renders the overlay with kustomize (kubectl's built-in) against a stand-in for the upstream install, to
// prove the strategic-merge patches land where meant: the controller keeps its own mounts and volumes and
// gains one, the sidecar and init container are added, the ConfigMap gets the plugin entry. Skipped when
// kubectl is not installed; the upstream URL is swapped for a local file (no network in tests).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAllYaml } from '@kubernetes/client-node';

const overlay = fileURLToPath(new URL('../../deploy/kustomize/', import.meta.url));

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const UPSTREAM = `apiVersion: v1
kind: ServiceAccount
metadata: {name: argo-rollouts}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: argo-rollouts-config}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: argo-rollouts}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: argo-rollouts}}
  template:
    metadata: {labels: {app.kubernetes.io/name: argo-rollouts}}
    spec:
      serviceAccountName: argo-rollouts
      containers:
        - name: argo-rollouts
          image: quay.io/argoproj/argo-rollouts:v1.8.3
          args: [--healthzPort=8080]
          volumeMounts:
            - {name: plugin-bin, mountPath: /home/argo-rollouts/plugin-bin}
            - {name: tmp, mountPath: /tmp}
      volumes:
        - {name: plugin-bin, emptyDir: {}}
        - {name: tmp, emptyDir: {}}
`;

let work: string | undefined;
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!hasKubectl())('kustomize build of deploy/kustomize', () => {
  it('adds the plugin to the upstream install without disturbing the controller', () => {
    work = mkdtempSync(join(tmpdir(), 'alb-kustomize-'));
    mkdirSync(join(work, 'overlay'));
    for (const f of readdirSync(overlay)) copyFileSync(join(overlay, f), join(work, 'overlay', f));
    writeFileSync(join(work, 'install.yaml'), UPSTREAM);
    const k = join(work, 'overlay', 'kustomization.yaml');
    const text = readFileSync(k, 'utf8');
    const remote = /https:\/\/github\.com\/argoproj\/argo-rollouts\/releases\/download\/[^\s]+\/install\.yaml/;
    expect(text).toMatch(remote);
    writeFileSync(k, text.replace(remote, '../install.yaml'));

    const out = execFileSync('kubectl', ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', join(work, 'overlay')], { encoding: 'utf8', timeout: 60_000 });
    const docs = loadAllYaml(out) as Array<{ kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }>;
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ClusterRole/argo-rollouts-alb-plugin',
      'ClusterRoleBinding/argo-rollouts-alb-plugin',
      'ConfigMap/argo-rollouts-config',
      'Deployment/argo-rollouts',
      'ServiceAccount/argo-rollouts',
    ]);
    const dep = docs.find((d) => d.kind === 'Deployment') as unknown as {
      metadata: { namespace: string };
      spec: { template: { spec: { containers: Array<{ name: string; image: string; args?: string[]; volumeMounts?: Array<{ name: string }> }>; initContainers: Array<{ name: string }>; volumes: Array<{ name: string }> } } };
    };
    expect(dep.metadata.namespace).toBe('argo-rollouts');
    const pod = dep.spec.template.spec;
    expect(pod.containers.map((c) => c.name)).toEqual(['argo-rollouts', 'alb-plugin']);
    const controller = pod.containers[0]!;
    expect(controller.image).toBe('quay.io/argoproj/argo-rollouts:v1.8.3');
    expect(controller.args).toEqual(['--healthzPort=8080']);
    expect(controller.volumeMounts!.map((m) => m.name).sort()).toEqual(['alb-plugin', 'plugin-bin', 'tmp']);
    expect(pod.initContainers.map((c) => c.name)).toEqual(['alb-plugin-handshake']);
    expect(pod.volumes.map((v) => v.name).sort()).toEqual(['alb-plugin', 'plugin-bin', 'tmp']);
    const cm = docs.find((d) => d.kind === 'ConfigMap') as unknown as { data: { trafficRouterPlugins: string } };
    expect(cm.data.trafficRouterPlugins).toContain('name: "argoproj-labs/alb"');
  });
});
