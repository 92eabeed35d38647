// What Gateway mode's cleanup sweep releases: every entry of the bookkeeping annotation (route/ownership.ts) on
// every HTTPRoute and GRPCRoute whose Rollout is gone, has moved to another mode of this plugin, or is in Gateway mode and no
// longer names the route; the same rule Ingress mode's sweep applies to its Ingresses. A Rollout that does not
// use this plugin (name) keeps its entries: another sidecar under another plugin name may drive the route.

import { rolloutId, type Rollout } from '../../core/rollout.js';
import type { CleanupContext } from '../../plugin/mode.js';
import { parseGatewayConfig, type RouteRef } from './config.js';
import type { HTTPRoute } from './route/model.js';
import { owners, parseOwnerKey } from './route/ownership.js';

export interface SweepEntry {
  ref: RouteRef;
  /** The entry's key, `<namespace>/<rollout>`. */
  owner: string;
  /** The Rollout the key names. */
  namespace: string;
  name: string;
}

/** Every entry on the routes; keys that name no Rollout go to `bad` (left alone: nothing can be concluded). */
export function sweepEntries(routes: readonly HTTPRoute[], bad?: (ref: RouteRef, owner: string) => void): SweepEntry[] {
  const out: SweepEntry[] = [];
  for (const route of routes) {
    const ref: RouteRef = { kind: route.kind === 'GRPCRoute' ? 'GRPCRoute' : 'HTTPRoute', name: route.metadata.name ?? '', namespace: route.metadata.namespace || 'default' };
    for (const owner of owners(route)) {
      const who = parseOwnerKey(owner);
      if (who) out.push({ ref, owner, ...who });
      else bad?.(ref, owner);
    }
  }
  return out;
}

export type SweepDecision = 'keep' | 'release';

/** What to do with one entry, given its Rollout as known (undefined: it does not exist). */
export function sweepDecision(entry: SweepEntry, rollout: Rollout | undefined, ctx: Pick<CleanupContext, 'placeOf'>, pluginName: string): SweepDecision {
  if (!rollout) return 'release';
  const place = ctx.placeOf(rollout);
  if (place === 'elsewhere') return 'release';
  if (place === 'none') return 'keep';
  let routes: RouteRef[];
  try {
    routes = parseGatewayConfig(rollout, pluginName).routes;
  } catch {
    // Unreadable (mid-edit): nothing can be concluded.
    return 'keep';
  }
  return routes.some((r) => r.kind === entry.ref.kind && r.name === entry.ref.name && r.namespace === entry.ref.namespace) ? 'keep' : 'release';
}

export function entryLabel(entry: SweepEntry): string {
  return `${rolloutId(entry.namespace, entry.name)} on ${entry.ref.kind} ${entry.ref.namespace}/${entry.ref.name}`;
}
