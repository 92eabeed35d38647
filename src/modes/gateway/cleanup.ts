// Cleanup for Gateway mode: a Rollout that is deleted, or leaves Gateway mode, has its HTTPRoutes released
// through the gateway router's `release` (its header-route rules go, the driven rules' weights go back to 100 %
// on the effective stable Service); a Rollout re-pointed to other routes releases the routes it no longer names. The rules the Rollout owns are found from the route's own bookkeeping
// annotation at each release, so any sidecar releases the same rules; this process only remembers the
// releases that failed (retrying-release.ts).

import { RetryingRelease } from '../../cleanup/retrying-release.js';
import type { Rollout } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import type { CleanupContext, ModeCleanup, ReleaseOutcome } from '../../plugin/mode.js';
import { parseGatewayConfig, type RouteRef } from './config.js';

export interface GatewayRouteCleanupOptions {
  /** Key under `trafficRouting.plugins` (to tell which routes a re-pointed Rollout dropped). */
  pluginName?: string;
  /** Releases the Rollout's HTTPRoutes (the gateway router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
}

export function gatewayRouteCleanup(opts: GatewayRouteCleanupOptions): ModeCleanup {
  const releases = new RetryingRelease({
    what: 'HTTPRoutes',
    byHand: 'remove its header-route rules and set the weights by hand',
    run: (r) => opts.release(r),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
  });
  const routesOf = (r: Rollout): RouteRef[] | undefined => {
    try {
      return opts.pluginName === undefined ? undefined : parseGatewayConfig(r, opts.pluginName).routes;
    } catch {
      return undefined;
    }
  };
  return {
    async changed(now, prev, ctx: CleanupContext) {
      const out = await releases.changed(now, prev, ctx);
      // Still in Gateway mode but pointed at other routes: the routes it dropped are released as on deletion,
      // from its last state there (an unreadable block on either side concludes nothing).
      if (prev && opts.pluginName !== undefined && ctx.placeOf(prev) === 'here' && ctx.placeOf(now) === 'here') {
        const before = routesOf(prev);
        const after = routesOf(now);
        if (before && after) {
          const key = (r: RouteRef) => `${r.kind} ${r.namespace}/${r.name}`;
          const kept = new Set(after.map(key));
          const dropped = before.filter((r) => !kept.has(key(r)));
          if (dropped.length > 0) out.push(await releases.release(withRoutes(prev, opts.pluginName, dropped)));
        }
      }
      return out;
    },
    deleted: (rollout, last, ctx) => releases.deleted(rollout, last, ctx),
    sweep: (ctx) => releases.sweep(ctx),
    reset: () => releases.reset?.(),
  };
}

/** The Rollout with its plugin block naming only `routes` (for releasing just those). */
function withRoutes(rollout: Rollout, pluginName: string, routes: RouteRef[]): Rollout {
  const canary = rollout.spec.strategy.canary!;
  const tr = canary.trafficRouting!;
  const block = { ...(tr.plugins![pluginName] as Record<string, unknown>) };
  for (const field of ['httpRoute', 'httpRoutes', 'grpcRoute', 'grpcRoutes']) delete block[field];
  const of = (kind: RouteRef['kind']) => routes.filter((r) => r.kind === kind).map((r) => ({ name: r.name, namespace: r.namespace }));
  if (of('HTTPRoute').length > 0) block.httpRoutes = of('HTTPRoute');
  if (of('GRPCRoute').length > 0) block.grpcRoutes = of('GRPCRoute');
  return {
    ...rollout,
    spec: { ...rollout.spec, strategy: { ...rollout.spec.strategy, canary: { ...canary, trafficRouting: { ...tr, plugins: { ...tr.plugins, [pluginName]: block } } } } },
  };
}
