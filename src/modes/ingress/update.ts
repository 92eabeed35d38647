// Read → plan → guarded patch, again from a fresh read when another writer got there first. The plan is
// recomputed from the new object each time, so two Rollouts sharing an Ingress never drop each other's keys.
// Inside an RPC call, nothing is written once the call's signal has fired (its deadline passed and Argo may
// already have sent a newer call): the check runs before every patch, the first and each one after a 409.

import type { Ingress, IngressEdit } from '../../k8s/ingress.js';
import { isEmptyEdit } from '../../k8s/ingress.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, IngressConflictError, type IngressClient, type RequestOptions } from '../../k8s/ingress-client.js';
import { stepBudgetMs, throwIfCancelled, type CallContext } from '../../plugin/call.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface UpdateResult {
  changed: boolean;
  ingress: Ingress;
  edit: IngressEdit;
}

/** One Kubernetes request of the call: its signal, and what is left of its budget (router.ts). */
function requestOptions(call: CallContext | undefined): RequestOptions | undefined {
  if (!call) return undefined;
  return { signal: call.signal, timeoutMs: stepBudgetMs(call, DEFAULT_REQUEST_TIMEOUT_MS) };
}

export async function updateIngress(
  client: IngressClient,
  namespace: string,
  name: string,
  plan: (ingress: Ingress) => IngressEdit,
  maxAttempts = DEFAULT_MAX_ATTEMPTS,
  call?: CallContext,
): Promise<UpdateResult> {
  for (let attempt = 1; ; attempt++) {
    throwIfCancelled(call, `ingress \`${name}\`: update`);
    const current = await client.get(namespace, name, requestOptions(call));
    const edit = plan(current);
    if (isEmptyEdit(edit)) return { changed: false, ingress: current, edit };
    const rv = current.metadata.resourceVersion;
    if (!rv) throw new Error(`ingress \`${name}\` came back without metadata.resourceVersion; refusing an unguarded write`);
    // The plan may rest on a weight captured when the call started: once the call is over, it is stale.
    throwIfCancelled(call, `ingress \`${name}\`: write`);
    try {
      return { changed: true, ingress: await client.patch(namespace, name, rv, edit, requestOptions(call)), edit };
    } catch (err) {
      if (!(err instanceof IngressConflictError)) throw err;
      if (attempt >= maxAttempts) {
        throw new Error(
          `ingress \`${name}\`: still conflicting after ${maxAttempts} attempts (another writer keeps changing it); ` +
            'the next reconcile tries again',
        );
      }
    }
  }
}
