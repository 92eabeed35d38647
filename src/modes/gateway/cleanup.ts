// Cleanup for Gateway mode: a Rollout that is deleted, or leaves Gateway mode, has its HTTPRoutes released
// through the gateway router's `release` (its header-route rules go, the driven rules' weights go back to 100 %
// on the effective stable Service). The rules the Rollout owns are found from the route's own bookkeeping
// annotation at each release, so any sidecar releases the same rules; this process only remembers the
// releases that failed (retrying-release.ts).

import { RetryingRelease } from '../../cleanup/retrying-release.js';
import type { Rollout } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import type { ReleaseOutcome } from '../../plugin/mode.js';

export interface GatewayRouteCleanupOptions {
  /** Releases the Rollout's HTTPRoutes (the gateway router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

export function gatewayRouteCleanup(opts: GatewayRouteCleanupOptions): RetryingRelease {
  return new RetryingRelease({
    what: 'HTTPRoutes',
    byHand: 'remove its header-route rules and set the weights by hand',
    run: (r) => opts.release(r),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
  });
}
