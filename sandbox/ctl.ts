// Small stand-ins for `kubectl argo rollouts promote|abort|set image` against the sandbox, for machines without
// kubectl: they send the same patches to the sandbox's API server (.cache/sandbox/kubeconfig).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { REPO_ROOT } from '../test/support/kube/assets.js';
import { DEMO, DEMO_NS } from './demo.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function main(): Promise<void> {
  const [cmd, arg] = process.argv.slice(2);
  const path = process.env.KUBECONFIG || join(REPO_ROOT, '.cache/sandbox/kubeconfig');
  if (!existsSync(path)) throw new Error(`no sandbox kubeconfig at ${path}: start the sandbox first (bash scripts/sandbox.sh)`);
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const api = kc.makeApiClient(CustomObjectsApi);
  const ref = { group: 'argoproj.io', version: 'v1alpha1', namespace: DEMO_NS, plural: 'rollouts', name: DEMO };
  switch (cmd) {
    case 'promote':
      await api.patchNamespacedCustomObject({ ...ref, body: { spec: { paused: false } } }, MERGE);
      await api.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { pauseConditions: null } } }, MERGE);
      break;
    case 'abort':
      await api.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { abort: true } } }, MERGE);
      break;
    case 'retry':
      await api.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { abort: false } } }, MERGE);
      break;
    case 'image': {
      if (!arg) throw new Error('usage: bash scripts/sandbox.sh image <tag>, for example 3.0.0');
      const ro = (await api.getNamespacedCustomObject(ref)) as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } };
      const containers = ro.spec.template.spec.containers.map((c, i) => (i === 0 ? { ...c, image: `registry.example.com/shop:${arg}` } : c));
      await api.patchNamespacedCustomObject({ ...ref, body: { spec: { template: { spec: { containers } } } } }, MERGE);
      break;
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd ?? '')}: use promote, abort, retry or image <tag>`);
  }
  process.stdout.write(`${cmd} sent to rollout ${DEMO_NS}/${DEMO}; the sandbox's terminal shows what follows\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
