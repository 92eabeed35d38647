// Applies releaseRollout to live Ingresses: read, compute the edit, patch with the read's resourceVersion,
// and on 409 read again and recompute (the edit is only ever computed against what the server holds).
// Work on one Ingress is serialised, so two releases on a shared Ingress never race each other.

import type { Logger } from '../../logger.js';
import type { ReleaseOutcome } from '../../plugin/mode.js';
import { isEmptyEdit, type Ingress } from '../../k8s/ingress.js';
import { IngressConflictError, IngressNotFoundError, type IngressClient } from '../../k8s/ingress-client.js';
import { releaseRollout, type ReleaseTarget } from './release.js';



export interface ReleaserOptions {
  ingresses: IngressClient;
  logger?: Logger;
  onOutcome?: (outcome: ReleaseOutcome) => void;
  /** Attempts per release when the Ingress keeps changing under us. */
  maxAttempts?: number;
}

export interface Releaser {
  /**
   * Releases the Rollout's hold on one Ingress. `decide` may swap the target after each read (the sweep reads
   * the release target from the Ingress itself); returning undefined leaves the Ingress alone.
   */
  release(
    namespace: string,
    ingressName: string,
    target: ReleaseTarget | ((ingress: Ingress) => ReleaseTarget | undefined),
  ): Promise<ReleaseOutcome>;
  /** Resolves when every release started so far has finished. */
  idle(): Promise<void>;
}

export function createReleaser(opts: ReleaserOptions): Releaser {
  const maxAttempts = opts.maxAttempts ?? 5;
  const queues = new Map<string, Promise<unknown>>();

  async function attempt(namespace: string, name: string, pick: (ing: Ingress) => ReleaseTarget | undefined): Promise<ReleaseOutcome> {
    for (let i = 1; ; i++) {
      let ingress: Ingress;
      try {
        ingress = await opts.ingresses.get(namespace, name);
      } catch (err) {
        if (err instanceof IngressNotFoundError) return 'ingress_gone';
        throw err;
      }
      const target = pick(ingress);
      if (!target) return 'unchanged';
      const edit = releaseRollout(ingress, target);
      if (isEmptyEdit(edit)) return 'unchanged';
      try {
        await opts.ingresses.patch(namespace, name, ingress.metadata.resourceVersion ?? '', edit);
        opts.logger?.info(
          { ingress: `${namespace}/${name}`, rollout: target.rolloutName, stableService: target.stableService || undefined, keys: Object.keys(edit.annotations) },
          'released Ingress from a Rollout that no longer uses it',
        );
        return 'released';
      } catch (err) {
        if (err instanceof IngressConflictError && i < maxAttempts) continue;
        if (err instanceof IngressNotFoundError) return 'ingress_gone';
        throw err;
      }
    }
  }

  return {
    release(namespace, ingressName, target) {
      const pick = typeof target === 'function' ? target : () => target;
      const key = `${namespace}/${ingressName}`;
      const prev = queues.get(key) ?? Promise.resolve();
      const run = prev
        .catch(() => undefined)
        .then(() => attempt(namespace, ingressName, pick))
        .catch((err: unknown) => {
          opts.logger?.warn(
            { ingress: key, err: err instanceof Error ? err.message : String(err) },
            'could not release Ingress; the next sweep retries',
          );
          return 'error' as const;
        })
        .then((outcome) => {
          opts.onOutcome?.(outcome);
          return outcome;
        });
      queues.set(key, run);
      void run.finally(() => {
        if (queues.get(key) === run) queues.delete(key);
      });
      return run;
    },
    async idle() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
  };
}
