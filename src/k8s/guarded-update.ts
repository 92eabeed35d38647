// Read → plan → guarded patch, again from a fresh read when another writer got there first: the one write loop
// of every mode that writes Kubernetes objects (Ingress annotations, HTTPRoutes). The plan is recomputed from
// the object as read each time, so two writers sharing an object never drop each other's changes, and every
// patch is guarded by the resourceVersion it was planned on (a merge patch carrying it, or a JSON patch `test`).
// A 422 with the object unchanged since the read was not a race but a refusal of the patch itself (validation):
// reported, not retried. Inside an RPC call nothing is written once the call's signal has fired (its deadline
// passed and Argo may already have sent a newer call): checked before every read and every patch.

import { stepBudgetMs, throwIfCancelled, type CallContext } from '../plugin/call.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubernetesApiError, type RequestOptions } from './ingress-client.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface VersionedObject {
  metadata: { resourceVersion?: string };
}

/** One object as the loop sees it: how to read it, patch it and tell a race from a refusal. */
export interface GuardedObject<T extends VersionedObject, E> {
  /** Names the object in every message, e.g. "ingress `shop`" or "HTTPRoute shop/web". */
  label: string;
  get(opts?: RequestOptions): Promise<T>;
  /** Applies `edit`, guarded by `current.metadata.resourceVersion`. */
  patch(current: T, edit: E, opts?: RequestOptions): Promise<T>;
  isEmpty(edit: E): boolean;
  /** The API server refused the patch because the object changed (409), or a guard failed (422). */
  isConflict(err: unknown): err is KubernetesApiError;
}

export interface GuardedUpdate<T, E> {
  changed: boolean;
  object: T;
  edit: E;
}

export interface GuardedUpdateOptions<T, E> {
  call?: CallContext;
  maxAttempts?: number;
  /** Runs before each patch with the object read and the edit; throwing refuses the write. */
  beforeWrite?(current: T, edit: E): Promise<void>;
}

/** One Kubernetes request of the call: its signal, and what is left of its budget (src/plugin/call.ts). */
export function requestOptions(call: CallContext | undefined): RequestOptions | undefined {
  return call ? { signal: call.signal, timeoutMs: stepBudgetMs(call, DEFAULT_REQUEST_TIMEOUT_MS) } : undefined;
}

export async function guardedUpdate<T extends VersionedObject, E>(
  target: GuardedObject<T, E>,
  plan: (current: T) => E,
  opts: GuardedUpdateOptions<T, E> = {},
): Promise<GuardedUpdate<T, E>> {
  const { call, label } = { call: opts.call, label: target.label };
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    throwIfCancelled(call, `${label}: update`);
    const current = await target.get(requestOptions(call));
    const edit = plan(current);
    if (target.isEmpty(edit)) return { changed: false, object: current, edit };
    if (!current.metadata.resourceVersion) throw new Error(`${label} came back without metadata.resourceVersion; refusing an unguarded write`);
    if (opts.beforeWrite) await opts.beforeWrite(current, edit);
    // The plan may rest on a weight captured when the call started: once the call is over, it is stale.
    throwIfCancelled(call, `${label}: write`);
    try {
      return { changed: true, object: await target.patch(current, edit, requestOptions(call)), edit };
    } catch (err) {
      if (!target.isConflict(err)) throw err;
      if (err.status === 422) {
        throwIfCancelled(call, `${label}: update`);
        const again = await target.get(requestOptions(call));
        if (again.metadata.resourceVersion === current.metadata.resourceVersion) {
          throw new Error(`${label}: the API server refused the plugin's patch: ${err.message}`);
        }
      }
      if (attempt >= maxAttempts) {
        throw new Error(`${label}: still conflicting after ${maxAttempts} attempts (another writer keeps changing it); the next reconcile tries again`);
      }
    }
  }
}
