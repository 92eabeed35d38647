// Counts the sidecar's Kubernetes writes at the one place every request passes through (the sidecar's own
// client, k8s/kube-api.ts; client-node's generated API clients too, which the tests use), so a write added
// later is counted too: operators (and the two-pod end-to-end scenario) can see that a standby sidecar writes
// nothing.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeAccess } from './kube-api.js';

export type KubernetesWriteVerb = 'create' | 'update' | 'patch' | 'delete';

const VERBS: Record<string, KubernetesWriteVerb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/**
 * The resource a request path names: `ingresses`, `rollouts/status`, `httproutes`, `events`. Paths look like
 * `/api/v1/namespaces/<ns>/<plural>[/<name>[/<sub>]]` or `/apis/<group>/<version>/namespaces/...`.
 */
export function resourceOfPath(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const ns = parts.indexOf('namespaces');
  // A namespaced path names the plural two segments after `namespaces`; a cluster-scoped one right after the version.
  const rest = ns >= 0 && parts.length > ns + 2 ? parts.slice(ns + 2) : parts.slice(parts[0] === 'api' ? 2 : 3);
  const [plural, , sub] = rest;
  if (!plural) return 'unknown';
  return sub ? `${plural}/${sub}` : plural;
}

/** Calls `onWrite` before each create, update, patch or delete a client built from `kc` sends. */
export function withWriteCounter<T extends KubeAccess>(kc: T, onWrite: (verb: KubernetesWriteVerb, resource: string) => void): T {
  const count = (method: string, path: string): void => {
    const verb = VERBS[method.toUpperCase()];
    if (verb) onWrite(verb, resourceOfPath(path));
  };
  const before = kc.onRequest;
  kc.onRequest = (method, path) => {
    before?.(method, path);
    count(method, path);
  };
  // client-node's generated API clients authenticate every request through applySecurityAuthentication.
  const generated = kc as unknown as Partial<Pick<KubeConfig, 'applySecurityAuthentication'>>;
  const applyAuthentication = generated.applySecurityAuthentication?.bind(kc);
  if (applyAuthentication) {
    generated.applySecurityAuthentication = async (context) => {
      await applyAuthentication(context);
      count(String(context.getHttpMethod()), new URL(context.getUrl()).pathname);
    };
  }
  return kc;
}
