// Renders deploy/kustomize the way `kubectl apply -k` would, with one difference: the upstream install.yaml
// comes from the Go module cache (`go mod download` of github.com/argoproj/argo-rollouts at the pinned
// release, through the Go module proxy) instead of the GitHub release URL, because tests reach no other
// network. The module's manifests/install.yaml is the release's install.yaml apart from the controller image
// tag (`latest` there), which the overlay pins with an `images` entry anyway.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { REPO_ROOT } from '../support/kube/assets.js';

// Not from checks.ts: that imports vitest, and the sandbox runs this file outside the test runner.
const root = `${REPO_ROOT}/`;
const read = (p: string): string => readFileSync(root + p, 'utf8');

export const ARGO_ROLLOUTS_MODULE = 'github.com/argoproj/argo-rollouts';
const RELEASE_URL = /https:\/\/github\.com\/argoproj\/argo-rollouts\/releases\/download\/(v[\w.-]+)\/install\.yaml/;

export interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** The Argo Rollouts release the overlay's resources URL names. */
export function pinnedArgoRolloutsVersion(): string {
  const m = RELEASE_URL.exec(read('deploy/kustomize/kustomization.yaml'));
  if (!m) throw new Error('deploy/kustomize/kustomization.yaml names no argo-rollouts release install.yaml');
  return m[1]!;
}

/** The release the Go conformance suite (Argo's own RPC client) and the kube tests' CRD come from. */
export function testedArgoRolloutsVersion(): string {
  const m = /^\s*github\.com\/argoproj\/argo-rollouts (v\S+)$/m.exec(read('test/conformance/go.mod'));
  if (!m) throw new Error('test/conformance/go.mod requires no github.com/argoproj/argo-rollouts');
  return m[1]!;
}

export type Upstream = { ok: true; installYaml: string } | { ok: false; reason: string };

const upstreamCache = new Map<string, Upstream>();

/** manifests/install.yaml of the release, from the Go module cache (downloaded once through the proxy). */
export function upstreamInstallYaml(version: string): Upstream {
  const cached = upstreamCache.get(version);
  if (cached) return cached;
  let out: Upstream;
  try {
    const json = execFileSync('go', ['mod', 'download', '-json', `${ARGO_ROLLOUTS_MODULE}@${version}`], {
      cwd: tmpdir(),
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
      encoding: 'utf8',
      timeout: 300_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const info = JSON.parse(json) as { Dir?: string; Error?: string };
    const file = info.Dir ? join(info.Dir, 'manifests/install.yaml') : '';
    out = info.Dir && existsSync(file) ? { ok: true, installYaml: file } : { ok: false, reason: `go mod download ${ARGO_ROLLOUTS_MODULE}@${version}: ${info.Error ?? 'no manifests/install.yaml'}` };
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    out = { ok: false, reason: `go mod download ${ARGO_ROLLOUTS_MODULE}@${version} failed: ${(e.stderr || e.message || String(err)).trim().split('\n').pop()}` };
  }
  upstreamCache.set(version, out);
  return out;
}

export function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Why the rendering cannot run here, or undefined when it can. */
export function renderUnavailable(): string | undefined {
  if (!hasKubectl()) return 'kubectl (its built-in kustomize renders the overlay) is not installed';
  const upstream = upstreamInstallYaml(pinnedArgoRolloutsVersion());
  return upstream.ok ? undefined : upstream.reason;
}

/** `kubectl kustomize` of a copy of the overlay whose release URL points at `installYaml`. */
export function renderOverlay(installYaml: string): K8sDoc[] {
  const overlay = join(root, 'deploy/kustomize');
  const work = mkdtempSync(join(tmpdir(), 'alb-kustomize-'));
  try {
    mkdirSync(join(work, 'overlay'));
    for (const f of readdirSync(overlay)) copyFileSync(join(overlay, f), join(work, 'overlay', f));
    copyFileSync(installYaml, join(work, 'install.yaml'));
    const k = join(work, 'overlay', 'kustomization.yaml');
    writeFileSync(k, readFileSync(k, 'utf8').replace(RELEASE_URL, '../install.yaml'));
    const out = execFileSync('kubectl', ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', join(work, 'overlay')], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return (loadAllYaml(out) as Array<K8sDoc | null>).filter((d): d is K8sDoc => d !== null);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The upstream install as it is, for comparing what the overlay changed. */
export function loadInstallYaml(installYaml: string): K8sDoc[] {
  return (loadAllYaml(readFileSync(installYaml, 'utf8')) as Array<K8sDoc | null>).filter((d): d is K8sDoc => d !== null);
}

export const docId = (d: K8sDoc): string => `${d.kind}/${d.metadata.name}`;
