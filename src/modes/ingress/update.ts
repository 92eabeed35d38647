// Ingress mode's writes through the shared guarded loop (src/k8s/guarded-update.ts): a merge patch of the
// annotations (and the rules' paths) carrying the resourceVersion it was planned on.

import { guardedUpdate } from '../../k8s/guarded-update.js';
import type { Ingress, IngressEdit } from '../../k8s/ingress.js';
import { isEmptyEdit } from '../../k8s/ingress.js';
import { IngressConflictError, type IngressClient } from '../../k8s/ingress-client.js';
import type { CallContext } from '../../plugin/call.js';

export { DEFAULT_MAX_ATTEMPTS } from '../../k8s/guarded-update.js';

export interface UpdateResult {
  changed: boolean;
  ingress: Ingress;
  edit: IngressEdit;
}

export async function updateIngress(
  client: IngressClient,
  namespace: string,
  name: string,
  plan: (ingress: Ingress) => IngressEdit,
  maxAttempts?: number,
  call?: CallContext,
): Promise<UpdateResult> {
  const out = await guardedUpdate<Ingress, IngressEdit>(
    {
      label: `ingress \`${name}\``,
      get: (opts) => client.get(namespace, name, opts),
      patch: (current, edit, opts) => client.patch(namespace, name, current.metadata.resourceVersion!, edit, opts),
      isEmpty: isEmptyEdit,
      isConflict: (err): err is IngressConflictError => err instanceof IngressConflictError,
    },
    plan,
    { ...(call ? { call } : {}), ...(maxAttempts !== undefined ? { maxAttempts } : {}) },
  );
  return { changed: out.changed, ingress: out.object, edit: out.edit };
}
