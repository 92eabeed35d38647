// The Kubernetes reads behind readiness and the HTTP API: is the API server there, one Rollout by name, and
// an Ingress's load-balancer hostnames. Failures name what is missing so the one start-up line and the
// /readyz body tell the operator what to fix.

import type { KubeConfig } from '@kubernetes/client-node';
import { ApiException, kubeRequest, type KubeAccess } from '../k8s/kube-api.js';
import type { Rollout } from '../core/rollout.js';
import { USER_AGENT } from '../version.js';
import type { ReadinessCheck } from './health.js';

/**
 * For client-node's own clients (the tests'; the sidecar's requests go through k8s/kube-api.ts, which always
 * sends USER_AGENT). Makes every request built from `kc` carry `userAgent`: the generated API clients (which authenticate through
 * `applySecurityAuthentication`) and the watch (`applyToFetchOptions`). Without it client-node sends
 * node-fetch's agent string, and the API server records the plugin's Ingress patches under the field manager
 * `node-fetch`; with it, under `rollouts-plugin-trafficrouter-alb` (the part before the first `/`).
 */
export function withUserAgent<T extends KubeConfig>(kc: T, userAgent: string = USER_AGENT): T {
  const applyAuthentication = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await applyAuthentication(context);
    context.setHeaderParam('User-Agent', userAgent);
  };
  const applyToFetchOptions = kc.applyToFetchOptions.bind(kc);
  kc.applyToFetchOptions = async (opts) => {
    const init = await applyToFetchOptions(opts);
    const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
    headers.set('User-Agent', userAgent);
    return { ...init, headers } as unknown as typeof init;
  };
  return kc;
}

/** client-node's last resort when it found no kubeconfig and no in-cluster service account. */
const NO_CONFIG_SERVER = 'http://localhost:8080';

/** Where the client will connect, for messages: `https://10.0.0.1:443 (context prod)`. */
export function describeCluster(kc: KubeAccess): string {
  const server = kc.getCurrentCluster()?.server ?? '(no cluster)';
  const context = kc.getCurrentContext();
  return context && context !== 'loaded-context' && context !== 'inClusterContext' ? `${server} (context ${context})` : server;
}

function reason(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}`;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** Resolves when the API server answers GET /version; rejects with one sentence saying what is missing. */
export async function requireKubernetes(kc: KubeAccess, signal: AbortSignal): Promise<void> {
  const cluster = kc.getCurrentCluster();
  // client-node's own fallback (cluster "cluster" at localhost:8080), not a kubeconfig that happens to say so.
  const fallback = cluster?.name === 'cluster' && cluster.server === NO_CONFIG_SERVER && kc.getCurrentContext() === 'loaded-context';
  if (!cluster?.server || fallback) {
    throw new Error(
      'no Kubernetes cluster configured: not running in a pod with a service account, and no kubeconfig found ' +
        '(pass --kubeconfig, or set ALB_PLUGIN_KUBECONFIG or KUBECONFIG)',
    );
  }
  try {
    await Promise.race([
      kubeRequest(kc, { path: '/version' }),
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(new Error('timed out'));
        signal.addEventListener('abort', () => reject(new Error('timed out')), { once: true });
      }),
    ]);
  } catch (err) {
    throw new Error(`Kubernetes API not reachable at ${describeCluster(kc)}: ${reason(err)}`);
  }
}

export function kubernetesCheck(kc: KubeAccess): ReadinessCheck {
  return { name: 'kubernetes', check: (signal) => requireKubernetes(kc, signal) };
}

/** GET of one Rollout; undefined when it does not exist. */
export function kubeRolloutGetter(kc: KubeAccess): (namespace: string, name: string) => Promise<Rollout | undefined> {
  return async (namespace, name) => {
    try {
      return await kubeRequest<Rollout>(kc, { path: `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/rollouts/${encodeURIComponent(name)}` });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw new Error(`reading Rollout ${namespace}/${name}: ${reason(err)}`);
    }
  };
}
