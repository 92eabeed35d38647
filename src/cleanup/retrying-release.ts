// The release of a Rollout's hold on objects that nothing on the objects themselves leads a sweep back to
// (a listener rule, an HTTPRoute's header rules): it runs at once, and one that failed is kept in this process
// and tried again at the next sweeps, up to a limit. Shared by listener-rule and Gateway mode cleanup.

import { ConfigError } from '../core/fields.js';
import type { Rollout } from '../core/rollout.js';
import type { Logger } from '../logger.js';
import { rolloutId } from './holds.js';
import type { ReleaseOutcome } from '../modes/ingress/releaser.js';

export type RolloutReader = (namespace: string, name: string) => Promise<Rollout | undefined>;

export interface RetryingReleaseOptions {
  /** What is released, for log lines ("listener rule", "HTTPRoutes"). */
  what: string;
  /** What a person does once the retries are given up. */
  byHand: string;
  /** The Rollout drives the objects again: a pending release must not touch them. */
  inMode(rollout: Rollout): boolean;
  /** Releases; resolves to an outcome of its own (e.g. the object is gone), else `released`. */
  run(rollout: Rollout): Promise<ReleaseOutcome | void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

interface Pending {
  rollout: Rollout;
  attempts: number;
}

export class RetryingRelease {
  private readonly pending = new Map<string, Pending>();
  private readonly maxRetries: number;

  constructor(private readonly opts: RetryingReleaseOptions) {
    this.maxRetries = opts.maxRetries ?? 10;
  }

  /** The Rollout was added or changed: one created again under the same name takes over from a pending release. */
  forget(rollout: Rollout): void {
    this.pending.delete(rolloutId(rollout.metadata.namespace, rollout.metadata.name));
  }

  async release(rollout: Rollout): Promise<ReleaseOutcome> {
    const outcome = await this.attempt(rollout, 0);
    this.opts.onOutcome?.(outcome);
    return outcome;
  }

  /**
   * Tries failed releases again (from the sweep). A Rollout back in the mode is left alone; `readRollout`
   * answers that from the API server, since the watch can lag.
   */
  async retry(readRollout?: RolloutReader): Promise<ReleaseOutcome[]> {
    const out: ReleaseOutcome[] = [];
    for (const [id, p] of [...this.pending]) {
      if (readRollout) {
        try {
          const now = await readRollout(p.rollout.metadata.namespace || 'default', p.rollout.metadata.name);
          if (now && this.opts.inMode(now)) {
            this.pending.delete(id);
            continue;
          }
        } catch (err) {
          this.opts.logger?.warn({ rollout: id, err: message(err) }, `could not read the Rollout; retrying its ${this.opts.what} release at the next sweep`);
          continue;
        }
      }
      const outcome = await this.attempt(p.rollout, p.attempts);
      this.opts.onOutcome?.(outcome);
      out.push(outcome);
    }
    return out;
  }

  /** Rollouts whose release failed and waits for the next sweep. */
  pendingReleases(): string[] {
    return [...this.pending.keys()];
  }

  private async attempt(rollout: Rollout, attempts: number): Promise<ReleaseOutcome> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    this.pending.delete(id);
    const { what } = this.opts;
    try {
      const outcome = (await this.opts.run(rollout)) ?? 'released';
      if (outcome === 'released') this.opts.logger?.info({ rollout: id }, `released the ${what} of a Rollout that no longer drives them`);
      return outcome;
    } catch (err) {
      // The plugin block or a rule every mode shares (src/core): reading again will not help.
      if (err instanceof ConfigError) {
        this.opts.logger?.warn({ rollout: id, err: message(err) }, `unreadable plugin block; the ${what} are left as they are`);
        return 'error';
      }
      if (attempts + 1 > this.maxRetries) {
        this.opts.logger?.error({ rollout: id, err: message(err), attempts: attempts + 1 }, `giving up releasing the ${what} of a Rollout; ${this.opts.byHand}`);
        return 'error';
      }
      this.pending.set(id, { rollout, attempts: attempts + 1 });
      this.opts.logger?.warn({ rollout: id, err: message(err) }, `could not release the ${what} of a Rollout; the next sweep retries`);
      return 'error';
    }
  }
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
