// Cleanup for Gateway mode: the header-route rules of a Rollout that is deleted, or leaves Gateway mode, leave
// its HTTPRoutes through the gateway router's `release`; the backendRefs and their weights stay as the last
// SetWeight left them. The rules the Rollout owns are found from the route's own bookkeeping annotation at each
// release, so any sidecar releases the same rules; this process only remembers the releases that failed, and
// tries them again at the next sweeps.

import { ConfigError } from '../core/fields.js';
import type { Rollout } from '../core/rollout.js';
import type { Logger } from '../logger.js';
import { inGatewayMode, rolloutId } from './holds.js';
import type { ReleaseOutcome } from './releaser.js';

export interface GatewayRouteCleanupOptions {
  pluginName: string;
  /** Removes the Rollout's owned rules from its HTTPRoutes (the gateway router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

interface Pending {
  rollout: Rollout;
  attempts: number;
}

export class GatewayRouteCleanup {
  private readonly pending = new Map<string, Pending>();
  private readonly maxRetries: number;

  constructor(private readonly opts: GatewayRouteCleanupOptions) {
    this.maxRetries = opts.maxRetries ?? 10;
  }

  /** A Gateway-mode Rollout was added or changed: one created again under the same name takes over. */
  observe(rollout: Rollout): void {
    this.pending.delete(rolloutId(rollout.metadata.namespace, rollout.metadata.name));
  }

  /** A Gateway-mode Rollout was deleted, or left the mode (pass its last Gateway-mode state): release its HTTPRoutes now. */
  async release(rollout: Rollout): Promise<ReleaseOutcome> {
    const outcome = await this.attempt(rollout, 0);
    this.opts.onOutcome?.(outcome);
    return outcome;
  }

  /**
   * Tries failed releases again (from the sweep). A Rollout that is in Gateway mode again is left alone;
   * `readRollout` answers that from the API server, since the watch can lag.
   */
  async retry(readRollout?: (namespace: string, name: string) => Promise<Rollout | undefined>): Promise<ReleaseOutcome[]> {
    const out: ReleaseOutcome[] = [];
    for (const [id, p] of [...this.pending]) {
      if (readRollout) {
        try {
          const now = await readRollout(p.rollout.metadata.namespace || 'default', p.rollout.metadata.name);
          if (now && inGatewayMode(now, this.opts.pluginName)) {
            this.pending.delete(id);
            continue;
          }
        } catch (err) {
          this.opts.logger?.warn({ rollout: id, err: message(err) }, 'could not read the Rollout; retrying its HTTPRoute release at the next sweep');
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
    try {
      await this.opts.release(rollout);
      this.opts.logger?.info({ rollout: id }, 'released the HTTPRoutes of a Rollout that no longer drives them');
      return 'released';
    } catch (err) {
      // The httpRoute block or a rule every mode shares (src/core): reading again will not help.
      if (err instanceof ConfigError) {
        this.opts.logger?.warn({ rollout: id, err: message(err) }, 'unreadable httpRoute block; the HTTPRoutes are left as they are');
        return 'error';
      }
      if (attempts + 1 > this.maxRetries) {
        this.opts.logger?.error({ rollout: id, err: message(err), attempts: attempts + 1 }, 'giving up releasing the HTTPRoutes of a Rollout; remove its header-route rules by hand');
        return 'error';
      }
      this.pending.set(id, { rollout, attempts: attempts + 1 });
      this.opts.logger?.warn({ rollout: id, err: message(err) }, 'could not release the HTTPRoutes of a Rollout; the next sweep retries');
      return 'error';
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
