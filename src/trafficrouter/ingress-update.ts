// Read → plan → guarded patch, again from a fresh read when another writer got there first. The plan is
// recomputed from the new object each time, so two Rollouts sharing an Ingress never drop each other's keys.

import type { Ingress, IngressEdit } from '../k8s/ingress.js';
import { isEmptyEdit } from '../k8s/ingress.js';
import { IngressConflictError, type IngressClient } from '../k8s/ingress-client.js';

export const DEFAULT_MAX_ATTEMPTS = 5;

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
  maxAttempts = DEFAULT_MAX_ATTEMPTS,
): Promise<UpdateResult> {
  for (let attempt = 1; ; attempt++) {
    const current = await client.get(namespace, name);
    const edit = plan(current);
    if (isEmptyEdit(edit)) return { changed: false, ingress: current, edit };
    const rv = current.metadata.resourceVersion;
    if (!rv) throw new Error(`ingress \`${name}\` came back without metadata.resourceVersion; refusing an unguarded write`);
    try {
      return { changed: true, ingress: await client.patch(namespace, name, rv, edit), edit };
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
