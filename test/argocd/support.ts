// The ignoreDifferences entries documented in docs/argocd.md, read out of its YAML blocks, and a runner that
// applies jqPathExpressions the way Argo CD's diff normalizer does (test/argocd/jqnorm, Go + gojq).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '@kubernetes/client-node';

const root = fileURLToPath(new URL('../../', import.meta.url));
const JQNORM = fileURLToPath(new URL('./jqnorm', import.meta.url));

export interface IgnoreDifferences {
  group?: string;
  kind?: string;
  jqPathExpressions?: string[];
  jsonPointers?: string[];
  managedFieldsManagers?: string[];
}

export interface DocumentedEntry {
  /** Which block: the Application entry, the argocd-cm form, the narrower form, or managedFieldsManagers. */
  form: 'application' | 'argocd-cm' | 'narrow' | 'managed-fields';
  entries: IgnoreDifferences[];
  syncOptions: string[];
  yaml: string;
}

export function documentedEntries(): DocumentedEntry[] {
  const text = readFileSync(`${root}docs/argocd.md`, 'utf8');
  const blocks = [...text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.map((yaml): DocumentedEntry => {
    const doc = loadYaml<{
      spec?: { ignoreDifferences?: IgnoreDifferences[]; syncPolicy?: { syncOptions?: string[] } };
      data?: Record<string, string>;
    }>(yaml);
    const cm = doc.data?.['resource.customizations.ignoreDifferences.networking.k8s.io_Ingress'];
    if (cm !== undefined) {
      return { form: 'argocd-cm', entries: [{ group: 'networking.k8s.io', kind: 'Ingress', ...loadYaml<IgnoreDifferences>(cm) }], syncOptions: [], yaml };
    }
    const entries = doc.spec?.ignoreDifferences;
    if (!entries) throw new Error(`docs/argocd.md: a YAML block with neither spec.ignoreDifferences nor the argocd-cm key:\n${yaml}`);
    const form = entries.some((e) => e.managedFieldsManagers) ? 'managed-fields' : yaml.includes('shop-stable') ? 'narrow' : 'application';
    return { form, entries, syncOptions: doc.spec?.syncPolicy?.syncOptions ?? [], yaml };
  });
}

export const hasGo = spawnSync('go', ['version']).status === 0;

export interface Normalized {
  objects: Array<Record<string, unknown>>;
  /** Per object, per expression: '' or the error Argo CD would log and skip. */
  errors: string[][];
}

/** Runs `expressions`, in order, on each object, as Argo CD's normalizer does. */
export function normalize(expressions: string[], objects: unknown[]): Normalized {
  const go = spawnSync('go', ['run', '.'], {
    cwd: JQNORM,
    input: JSON.stringify({ expressions, objects }),
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (go.status !== 0) throw new Error(`jqnorm failed (${go.status}): ${go.stderr}`);
  return JSON.parse(go.stdout) as Normalized;
}
