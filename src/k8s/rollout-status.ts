// The Rollout's status subresource, for the fields the plugin fills as Argo's built-in router does
// (`status.alb`, `status.albs`): a get and a merge patch of `/status` carrying the resourceVersion it was planned
// on (409 on a race; src/k8s/guarded-update.ts reads again). The `argo-rollouts` ServiceAccount may patch
// rollouts/status (Argo's own ClusterRole grants it to the controller).

import { ApiException, kubeRequest, MERGE_PATCH, type KubeAccess } from './kube-api.js';
import type { Rollout } from '../core/rollout.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubernetesApiError, timeoutOptions, type RequestOptions } from './ingress-client.js';

export interface RolloutStatusClient {
  get(namespace: string, name: string, opts?: RequestOptions): Promise<Rollout>;
  /** Merges `status` into the Rollout's status, guarded by `resourceVersion`; throws a KubernetesApiError (409 on a race). */
  patchStatus(namespace: string, name: string, resourceVersion: string, status: Record<string, unknown>, opts?: RequestOptions): Promise<Rollout>;
}

const rolloutPath = (namespace: string, name: string) =>
  `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/rollouts/${encodeURIComponent(name)}`;

function translate(err: unknown, what: string): Error {
  if (err instanceof ApiException) {
    const hint = err.code === 403 ? ' (grant the plugin patch on argoproj.io rollouts/status)' : '';
    return new KubernetesApiError(`${what}: HTTP ${err.code}${hint}`, err.code);
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function createRolloutStatusClient(kc: KubeAccess): RolloutStatusClient {
  const options = (opts?: RequestOptions) => timeoutOptions(Math.min(DEFAULT_REQUEST_TIMEOUT_MS, opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS), opts?.signal);
  return {
    async get(namespace, name, opts) {
      try {
        return await kubeRequest<Rollout>(kc, { path: rolloutPath(namespace, name), ...options(opts) });
      } catch (err) {
        throw translate(err, `reading Rollout ${namespace}/${name}`);
      }
    },
    async patchStatus(namespace, name, resourceVersion, status, opts) {
      try {
        const body = { metadata: { resourceVersion }, status };
        return await kubeRequest<Rollout>(kc, { method: 'PATCH', path: `${rolloutPath(namespace, name)}/status`, body, contentType: MERGE_PATCH, ...options(opts) });
      } catch (err) {
        throw translate(err, `patching the status of Rollout ${namespace}/${name}`);
      }
    },
  };
}
