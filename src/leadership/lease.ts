// Where Argo Rollouts' controller keeps its leader Lease, and one read of it. The name and namespace follow
// the controller's own rules (argo-rollouts v1.10.1): `leaseLockName` in controller/controller.go (the
// default name, suffixed with the controller's --instance-id when it has one) and `defaults.Namespace()` in
// utils/defaults/defaults.go (POD_NAMESPACE, else the ServiceAccount's namespace, else argo-rollouts). The
// sidecar shares the controller's pod, so the same rules find the same Lease.

import { readFileSync } from 'node:fs';
import { ApiException, kubeRequest, type KubeAccess } from '../k8s/kube-api.js';
import type { LeaseRead } from './judge.js';

export const DEFAULT_LEASE_NAME = 'argo-rollouts-controller-lock';
export const DEFAULT_CONTROLLER_NAMESPACE = 'argo-rollouts';
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface LeaseRef {
  namespace: string;
  name: string;
}

/** The Lease name for a controller started with `--instance-id=<instanceId>` (none: the default name). */
export function leaseName(instanceId?: string): string {
  return instanceId ? `${DEFAULT_LEASE_NAME}-${instanceId}` : DEFAULT_LEASE_NAME;
}

/** The controller's namespace: the setting, else POD_NAMESPACE, else the ServiceAccount's, else argo-rollouts. */
export function controllerNamespace(
  setting: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  if (setting) return setting;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const ns = readFile(SERVICE_ACCOUNT_NAMESPACE_FILE).trim();
    if (ns !== '') return ns;
  } catch {
    // Not in a pod: the default below, as the controller does.
  }
  return DEFAULT_CONTROLLER_NAMESPACE;
}

function reason(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}`;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

/**
 * One GET of the Lease: its record, or null when it does not exist. The sidecar reads rather than watches:
 * Argo's own role grants leases get (no list or watch), the leader rewrites the Lease every retry period (2 s)
 * so a watch would bring as many events as polls, and expiry needs a timer either way.
 */
export function kubeLeaseReader(kc: KubeAccess, lease: LeaseRef): () => Promise<LeaseRead> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(lease.namespace)}/leases/${encodeURIComponent(lease.name)}`;
  return async () => {
    try {
      const l = await kubeRequest<{ spec?: LeaseRead }>(kc, { path });
      return l.spec ?? {};
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return null;
      if (err instanceof ApiException && err.code === 403) {
        throw new Error(`reading Lease ${lease.namespace}/${lease.name}: HTTP 403; grant get on leases.coordination.k8s.io (deploy/kustomize/rbac.yaml)`);
      }
      throw new Error(`reading Lease ${lease.namespace}/${lease.name}: ${reason(err)}`);
    }
  };
}
