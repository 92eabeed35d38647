// Gateway mode's writes through the shared guarded loop (src/k8s/guarded-update.ts): a JSON patch whose first
// ops `test` the resourceVersion and each backendRef it rewrites (route/plan.ts), so a stale plan is refused (422).

import { guardedUpdate } from '../../k8s/guarded-update.js';
import type { CallContext } from '../../plugin/call.js';
import { RouteConflictError, type HTTPRouteClient } from './client.js';
import type { RouteRef } from './config.js';
import type { JsonPatchOp } from './json-patch.js';
import type { HTTPRoute } from './route/model.js';

export { DEFAULT_MAX_ATTEMPTS } from '../../k8s/guarded-update.js';

export interface RouteUpdate {
  changed: boolean;
  route: HTTPRoute;
  ops: JsonPatchOp[];
}

export async function updateRoute(
  client: HTTPRouteClient,
  ref: RouteRef,
  plan: (route: HTTPRoute) => JsonPatchOp[],
  call?: CallContext,
  maxAttempts?: number,
  /** Runs before each patch with the route read and the patch; throwing refuses the write. */
  beforeWrite?: (route: HTTPRoute, ops: JsonPatchOp[]) => Promise<void>,
): Promise<RouteUpdate> {
  const out = await guardedUpdate<HTTPRoute, JsonPatchOp[]>(
    {
      label: `${ref.kind} ${ref.namespace}/${ref.name}`,
      get: (opts) => client.get(ref.namespace, ref.name, opts, ref.kind),
      patch: (_current, ops, opts) => client.patch(ref.namespace, ref.name, ops, opts, ref.kind),
      isEmpty: (ops) => ops.length === 0,
      isConflict: (err): err is RouteConflictError => err instanceof RouteConflictError,
    },
    plan,
    { ...(call ? { call } : {}), ...(maxAttempts !== undefined ? { maxAttempts } : {}), ...(beforeWrite ? { beforeWrite } : {}) },
  );
  return { changed: out.changed, route: out.object, ops: out.edit };
}
