// Read → plan → guarded JSON patch, again from a fresh read when the API server refused the patch (409, or 422
// from a failed `test`): the plan is recomputed from the new route each time. A 422 with the route unchanged since
// our read was not a race but a refusal of the patch itself (CRD validation): it is reported, not retried. Inside
// an RPC call nothing is written once the call's signal has fired, checked before every read and every patch.

import type { RequestOptions } from '../../k8s/ingress-client.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../k8s/ingress-client.js';
import { stepBudgetMs, throwIfCancelled, type CallContext } from '../../plugin/call.js';
import { RouteConflictError, type HTTPRouteClient } from './client.js';
import type { RouteRef } from './config.js';
import type { JsonPatchOp } from './json-patch.js';
import type { HTTPRoute } from './route.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface RouteUpdate {
  changed: boolean;
  route: HTTPRoute;
  ops: JsonPatchOp[];
}

function requestOptions(call: CallContext | undefined): RequestOptions | undefined {
  return call ? { signal: call.signal, timeoutMs: stepBudgetMs(call, DEFAULT_REQUEST_TIMEOUT_MS) } : undefined;
}

export async function updateRoute(
  client: HTTPRouteClient,
  ref: RouteRef,
  plan: (route: HTTPRoute) => JsonPatchOp[],
  call?: CallContext,
  maxAttempts = DEFAULT_MAX_ATTEMPTS,
  /** Runs before each patch with the route read and the patch; throwing refuses the write. */
  beforeWrite?: (route: HTTPRoute, ops: JsonPatchOp[]) => Promise<void>,
): Promise<RouteUpdate> {
  const label = `HTTPRoute ${ref.namespace}/${ref.name}`;
  for (let attempt = 1; ; attempt++) {
    throwIfCancelled(call, `${label}: update`);
    const current = await client.get(ref.namespace, ref.name, requestOptions(call));
    const ops = plan(current);
    if (ops.length === 0) return { changed: false, route: current, ops };
    if (beforeWrite) await beforeWrite(current, ops);
    throwIfCancelled(call, `${label}: write`);
    try {
      return { changed: true, route: await client.patch(ref.namespace, ref.name, ops, requestOptions(call)), ops };
    } catch (err) {
      if (!(err instanceof RouteConflictError)) throw err;
      if (err.status === 422) {
        throwIfCancelled(call, `${label}: update`);
        const again = await client.get(ref.namespace, ref.name, requestOptions(call));
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
