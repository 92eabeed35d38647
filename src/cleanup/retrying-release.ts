// The cleanup of a mode whose objects lead a sweep back to nothing (a listener rule, an HTTPRoute's header
// rules): a Rollout deleted, or leaving the mode, is released at once from its last state in the mode, and a
// release that failed is kept in this process and tried again at the next sweeps, up to a limit. Shared by
// listener-rule and Gateway mode (their cleanup.ts).

import { ConfigError } from '../core/fields.js';
import type { Rollout } from '../core/rollout.js';
import type { Logger } from '../logger.js';
import { rolloutId } from '../core/rollout.js';
import type { CleanupContext, ModeCleanup, ReleaseOutcome } from '../plugin/mode.js';

export interface RetryingReleaseOptions {
  /** What is released, for log lines ("listener rule", "HTTPRoutes"). */
  what: string;
  /** What a person does once the retries are given up. */
  byHand: string;
  /** Releases; resolves to an outcome of its own (e.g. the object is gone), else `released`. */
  run(rollout: Rollout): Promise<ReleaseOutcome | void>;
  /** A Rollout in the mode was added or changed (best effort; e.g. remember what a release will need). */
  observe?(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

interface Pending {
  rollout: Rollout;
  attempts: number;
}

export class RetryingRelease implements ModeCleanup {
  private readonly pending = new Map<string, Pending>();
  private readonly maxRetries: number;

  constructor(private readonly opts: RetryingReleaseOptions) {
    this.maxRetries = opts.maxRetries ?? 10;
  }

  async changed(now: Rollout, prev: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    if (ctx.placeOf(now) === 'here') {
      // A Rollout created again under the same name takes over; an old pending release must not hit it.
      this.pending.delete(rolloutId(now.metadata.namespace, now.metadata.name));
      await this.opts.observe?.(now);
      return [];
    }
    // Leaving the mode (plugin block removed, or another mode) frees the objects, from the last state in the
    // mode. An unreadable new block concludes nothing; objects re-pointed within the mode are not released
    // (the old ones' rules could not be told from the new ones').
    if (prev && ctx.placeOf(prev) === 'here' && ctx.readable(now)) return [await this.release(prev)];
    return [];
  }

  async deleted(rollout: Rollout, last: Rollout | undefined, ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    // The deleted object is the Rollout's final state; the last one seen only stands in when it cannot tell.
    const from = ctx.placeOf(rollout) === 'here' ? rollout : !ctx.readable(rollout) && last && ctx.placeOf(last) === 'here' ? last : undefined;
    return from ? [await this.release(from)] : [];
  }

  sweep(ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    return this.retry(ctx);
  }

  async release(rollout: Rollout): Promise<ReleaseOutcome> {
    const outcome = await this.attempt(rollout, 0);
    this.opts.onOutcome?.(outcome);
    return outcome;
  }

  /**
   * Tries failed releases again (from the sweep). A Rollout back in the mode is left alone; the API server's
   * copy answers that, since the watch can lag.
   */
  private async retry(ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    const out: ReleaseOutcome[] = [];
    for (const [id, p] of [...this.pending]) {
      if (ctx.read) {
        try {
          const now = await ctx.read(p.rollout.metadata.namespace || 'default', p.rollout.metadata.name);
          if (now && ctx.placeOf(now) === 'here') {
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

  /** A new term of leadership: releases that failed in an earlier term are not retried from stale state. */
  reset(): void {
    this.pending.clear();
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
