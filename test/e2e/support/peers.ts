// Where scripts/e2e/build.sh caches the real peers of the end-to-end suite (Argo Rollouts controller, AWS
// Load Balancer Controller, kwok, kube-controller-manager) and the manifests copied out of their modules.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kubeAssets, REPO_ROOT } from '../../support/kube/assets.js';

export interface Peers {
  dir: string;
  argoController: string;
  lbc: string;
  kwok: string;
  kubeControllerManager: string;
  argoInstall: string;
  lbcCrds: string;
  kwokStages: string;
  handshake: string;
  sidecarMain: string;
  kubeApiserver: string;
  etcd: string;
}

export function peers(): Peers {
  const dir = execFileSync('bash', [join(REPO_ROOT, 'scripts/e2e/build.sh'), '--print'], { encoding: 'utf8' }).trim();
  const kube = kubeAssets();
  return {
    dir,
    argoController: join(dir, 'rollouts-controller'),
    lbc: join(dir, 'aws-load-balancer-controller'),
    kwok: join(dir, 'kwok'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    argoInstall: join(dir, 'manifests/argo-install.yaml'),
    lbcCrds: join(dir, 'manifests/lbc-crds.yaml'),
    kwokStages: join(dir, 'manifests/kwok-stages.yaml'),
    handshake: join(REPO_ROOT, 'bin/handshake'),
    sidecarMain: join(REPO_ROOT, 'dist/src/main.js'),
    kubeApiserver: kube.kubeApiserver,
    etcd: kube.etcd,
  };
}

/** What is missing, with the command that builds it; empty when everything is there. */
export function missingPeers(p: Peers = peers()): string[] {
  const fixes: Record<string, string> = {
    handshake: 'bash scripts/build-go.sh',
    sidecarMain: 'npm run build',
    kubeApiserver: 'bash scripts/kube/build.sh',
    etcd: 'bash scripts/kube/build.sh',
  };
  return (Object.entries(p) as Array<[keyof Peers, string]>)
    .filter(([k, path]) => k !== 'dir' && !existsSync(path))
    .map(([k, path]) => `${path} (run \`${fixes[k] ?? 'bash scripts/e2e/build.sh'}\`)`);
}
