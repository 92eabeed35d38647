// Cleanup for Gateway mode: a Rollout that is deleted, or leaves Gateway mode, has its HTTPRoutes released
// through the gateway router's `release` (its header-route rules go, the driven rules' weights go back to 100 %
// on the effective stable Service); a Rollout re-pointed to other routes releases the routes it no longer names.
// The rules the Rollout owns are found from the route's own bookkeeping annotation at each release, so any
// sidecar releases the same rules; this process only remembers the releases that failed (retrying-release.ts).
// The sweep also lists every HTTPRoute and releases the entries whose Rollout is gone or no longer names the
// route (sweep.ts), from what the entry records: deletions while no sidecar watched.

import { message, RetryingRelease } from '../../cleanup/retrying-release.js';
import type { Rollout } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import type { CleanupContext, ModeCleanup, ReleaseOutcome } from '../../plugin/mode.js';
import { parseGatewayConfig, type RouteRef } from './config.js';
import type { HTTPRoute } from './route/model.js';
import { OWNED_ANNOTATION } from './route/ownership.js';
import type { OwnerRelease } from './router.js';
import { entryLabel, sweepDecision, sweepEntries, type SweepEntry } from './sweep.js';

export interface GatewayRouteCleanupOptions {
  /** Key under `trafficRouting.plugins` (to tell which routes a re-pointed Rollout dropped). */
  pluginName?: string;
  /** Releases the Rollout's HTTPRoutes (the gateway router's `release`). */
  release(rollout: Rollout): Promise<void>;
  logger?: Logger;
  onOutcome?(outcome: ReleaseOutcome): void;
  /** Sweeps a failed release is tried again at before it is given up (default 10). */
  maxRetries?: number;
  /** Every HTTPRoute of the cluster; undefined when the Gateway API is not installed. Absent: the sweep reads no routes. */
  listRoutes?(): Promise<HTTPRoute[] | undefined>;
  /** Releases one entry of a route from what it records (the gateway router's `releaseOwner`). */
  releaseOwner?(ref: RouteRef, owner: string): Promise<OwnerRelease>;
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
  const log = opts.logger;
  const outcome = (o: ReleaseOutcome): ReleaseOutcome => {
    opts.onOutcome?.(o);
    return o;
  };

  /** Failed sweep releases per entry (`<kind> <ns>/<route> <owner>`); at the limit the entry is left to the operator. */
  const sweepFailures = new Map<string, number>();
  const maxSweepFailures = opts.maxRetries ?? 10;
  const entryKey = (e: SweepEntry) => `${e.ref.kind} ${e.ref.namespace}/${e.ref.name} ${e.owner}`;

  /** The watch can lag: a Rollout created a moment ago may already have written its entry, so ask the API server. */
  async function confirmAndRelease(entry: SweepEntry, ctx: CleanupContext, pluginName: string, releaseOwner: NonNullable<GatewayRouteCleanupOptions['releaseOwner']>): Promise<ReleaseOutcome> {
    const fields = { rollout: `${entry.namespace}/${entry.name}`, route: `${entry.ref.namespace}/${entry.ref.name}` };
    const key = entryKey(entry);
    const failed = sweepFailures.get(key) ?? 0;
    // Given up on (said once, at error level): neither read nor tried again until a restart or a new leadership term.
    if (failed >= maxSweepFailures) return 'unchanged';
    let rollout = ctx.seen(entry.namespace, entry.name);
    if (ctx.read) {
      try {
        rollout = await ctx.read(entry.namespace, entry.name);
      } catch (err) {
        log?.warn({ ...fields, err: message(err) }, 'sweep could not read the Rollout; leaving its HTTPRoute entry for the next sweep');
        return 'unchanged';
      }
    }
    if (sweepDecision(entry, rollout, ctx, pluginName) === 'keep') return 'unchanged';
    try {
      const done = await releaseOwner(entry.ref, entry.owner);
      sweepFailures.delete(key);
      if (done.weightsLeft !== undefined) {
        log?.warn({ ...fields, why: done.weightsLeft }, `released the header rules of ${entryLabel(entry)}, which no Rollout drives any more; its weights are left as they are`);
      } else if (done.outcome === 'released') {
        log?.info(fields, 'released the HTTPRoute entry of a Rollout that no longer drives it (found by the sweep)');
      }
      return outcome(done.outcome === 'gone' ? 'unchanged' : done.outcome);
    } catch (err) {
      sweepFailures.set(key, failed + 1);
      if (failed + 1 >= maxSweepFailures) {
        log?.error(
          { ...fields, err: message(err), attempts: failed + 1 },
          `giving up releasing ${entryLabel(entry)}; remove its header-route rules, set the weights and remove its entry from the ${OWNED_ANNOTATION} annotation by hand`,
        );
      } else {
        log?.warn({ ...fields, err: message(err) }, 'could not release the HTTPRoute entry of a Rollout that no longer drives it; the next sweep tries again');
      }
      return outcome('error');
    }
  }

  async function sweepRoutes(ctx: CleanupContext): Promise<ReleaseOutcome[]> {
    const { listRoutes, releaseOwner, pluginName } = opts;
    if (!listRoutes || !releaseOwner || pluginName === undefined) return [];
    let routes: HTTPRoute[] | undefined;
    try {
      routes = await listRoutes();
    } catch (err) {
      log?.warn({ err: message(err) }, 'sweep could not list the Gateway API routes; trying again at the next sweep');
      return [];
    }
    if (routes === undefined) {
      log?.debug('no gateway.networking.k8s.io/v1 httproutes or grpcroutes served (Gateway API not installed): no route to sweep');
      return [];
    }
    const entries = sweepEntries(routes, (ref, owner) =>
      log?.warn({ route: `${ref.namespace}/${ref.name}`, owner }, 'sweep skipped an HTTPRoute entry whose key is not <namespace>/<rollout>'),
    );
    const work = entries
      .filter((e) => sweepDecision(e, ctx.seen(e.namespace, e.name), ctx, pluginName) === 'release')
      .map((e) => confirmAndRelease(e, ctx, pluginName, releaseOwner));
    return Promise.all(work);
  }

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
    sweep: async (ctx) => [...(await releases.sweep(ctx)), ...(await sweepRoutes(ctx))],
    reset: () => {
      releases.reset?.();
      sweepFailures.clear();
    },
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
