// Cleanup for Gateway mode: the header-route rules of a Rollout that is deleted, or leaves Gateway mode, leave
// its HTTPRoutes through the gateway router's `release`; the backendRefs and their weights stay as the last SetWeight left them.
// The rules the Rollout owns are found from the route's own bookkeeping annotation at each release, so any
// sidecar releases the same rules. A release that fails is logged and counted, not retried.

import { ConfigError } from '../core/fields.js';
import type { Rollout } from '../core/rollout.js';
import type { Logger } from '../logger.js';
import { rolloutId } from './holds.js';
import type { ReleaseOutcome } from './releaser.js';

export interface GatewayRouteCleanupOptions {
  /** Removes the Rollout's owned rules and backends from its HTTPRoutes (the gateway router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
}

export class GatewayRouteCleanup {
  constructor(private readonly opts: GatewayRouteCleanupOptions) {}

  /** A Gateway-mode Rollout was deleted, or left the mode (pass its last Gateway-mode state): release its HTTPRoutes now. */
  async release(rollout: Rollout): Promise<ReleaseOutcome> {
    const outcome = await this.attempt(rollout);
    this.opts.onOutcome?.(outcome);
    return outcome;
  }

  private async attempt(rollout: Rollout): Promise<ReleaseOutcome> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    try {
      await this.opts.release(rollout);
      this.opts.logger?.info({ rollout: id }, 'released the HTTPRoutes of a Rollout that no longer drives them');
      return 'released';
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof ConfigError) this.opts.logger?.warn({ rollout: id, err: msg }, 'unreadable httpRoute block; the HTTPRoutes are left as they are');
      else this.opts.logger?.warn({ rollout: id, err: msg }, 'could not release the HTTPRoutes of a Rollout that no longer drives them; remove its header-route rules by hand');
      return 'error';
    }
  }
}
