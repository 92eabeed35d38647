// Cleanup for Gateway mode: a Rollout that is deleted, or leaves Gateway mode, has its HTTPRoutes released
// through the gateway router's `release` (its header-route rules go, the driven rules' weights go back to 100 %
// on the effective stable Service). The rules the Rollout owns are found from the route's own bookkeeping
// annotation at each release, so any sidecar releases the same rules; this process only remembers the
// releases that failed (retrying-release.ts).

import type { Rollout } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import { inGatewayMode } from '../../cleanup/holds.js';
import type { ReleaseOutcome } from '../ingress/releaser.js';
import { RetryingRelease, type RolloutReader } from '../../cleanup/retrying-release.js';

export interface GatewayRouteCleanupOptions {
  pluginName: string;
  /** Releases the Rollout's HTTPRoutes (the gateway router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

export class GatewayRouteCleanup {
  private readonly releases: RetryingRelease;

  constructor(opts: GatewayRouteCleanupOptions) {
    this.releases = new RetryingRelease({
      what: 'HTTPRoutes',
      byHand: 'remove its header-route rules and set the weights by hand',
      inMode: (r) => inGatewayMode(r, opts.pluginName),
      run: (r) => opts.release(r),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
      ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
    });
  }

  /** A Gateway-mode Rollout was added or changed: one created again under the same name takes over. */
  observe(rollout: Rollout): void {
    this.releases.forget(rollout);
  }

  /** A Gateway-mode Rollout was deleted, or left the mode (pass its last Gateway-mode state): release its HTTPRoutes now. */
  release(rollout: Rollout): Promise<ReleaseOutcome> {
    return this.releases.release(rollout);
  }

  /** Tries failed releases again (from the sweep), leaving alone a Rollout that is in Gateway mode again. */
  retry(readRollout?: RolloutReader): Promise<ReleaseOutcome[]> {
    return this.releases.retry(readRollout);
  }

  /** Rollouts whose release failed and waits for the next sweep. */
  pendingReleases(): string[] {
    return this.releases.pendingReleases();
  }
}
