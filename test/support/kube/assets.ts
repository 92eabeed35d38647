// Where scripts/kube/build.sh caches kube-apiserver, etcd and the Argo Rollouts CRD, and whether a test
// file may skip when they are missing (only on a developer machine: in CI a missing binary is a failure).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: found by walking up, so the same code works from test/ and compiled under .cache/. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'scripts/kube/build.sh'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no checkout (scripts/kube/build.sh) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
const BUILD_SCRIPT = join(REPO_ROOT, 'scripts/kube/build.sh');

export interface KubeAssets {
  dir: string;
  kubeApiserver: string;
  etcd: string;
  rolloutCrd: string;
  available: boolean;
  /** Set when `available` is false: what is missing and the command that fixes it. */
  missingReason: string;
}

let cached: KubeAssets | undefined;

/**
 * The build script names its versioned cache. `KUBE_TEST_ASSETS` overrides it with a directory holding
 * kube-apiserver, etcd and rollout-crd.yaml.
 */
export function kubeAssets(): KubeAssets {
  if (cached) return cached;
  const printed = Object.fromEntries(
    execFileSync('bash', [BUILD_SCRIPT, '--print'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  ) as { dir?: string; rollout_crd?: string };
  const dir = process.env.KUBE_TEST_ASSETS || printed.dir || '';
  const files = {
    kubeApiserver: join(dir, 'kube-apiserver'),
    etcd: join(dir, 'etcd'),
    rolloutCrd: process.env.KUBE_TEST_ASSETS ? join(dir, 'rollout-crd.yaml') : printed.rollout_crd || '',
  };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  cached = {
    dir,
    ...files,
    available: missing.length === 0,
    missingReason:
      missing.length === 0
        ? ''
        : `kube test assets missing (${missing.join(', ')}): run \`bash scripts/kube/build.sh\` ` +
          '(builds kube-apiserver and etcd from the Go module proxy; the first build takes a while)',
  };
  return cached;
}

/**
 * True when a kube test file should skip itself: assets missing and not in CI. Prints why, once per
 * file, so a skipped suite is never silent.
 */
export function skipKubeTests(): boolean {
  const assets = kubeAssets();
  if (assets.available) return false;
  if (process.env.CI) return false;
  console.warn(`SKIPPING kube-apiserver integration tests: ${assets.missingReason}`);
  return true;
}
