// Which Ingresses a Rollout holds and how to release each one (pure). The answer comes from the Rollout as
// last seen, so ping-pong roles (status.canary.stablePingPong) and rootService are those of the last write,
// not guesses from the annotation key as in Argo's cleanup (ingress/alb.go in argo-rollouts). A Rollout never seen is read from
// the Ingress instead (`inferTarget`, ingress-release.ts).

import type { Rollout } from '../../core/rollout.js';
import type { CleanupContext } from '../../plugin/mode.js';
import { releaseTargetOf, type ReleaseTarget } from './release.js';
import { rolloutContext } from './view.js';

export interface Hold {
  ingress: string;
  target: ReleaseTarget;
}

export type Holds =
  /** The Rollout does not use this plugin: it holds nothing through us. */
  | { kind: 'none' }
  /** The plugin block cannot be read (mid-edit, invalid): nothing can be concluded. */
  | { kind: 'unknown'; reason: string }
  /**
   * Another mode of this plugin (listener rule, Gateway routes): the Rollout holds no Ingress through us. Kept
   * apart from `unknown` so such a Rollout does not look like a broken Ingress-mode block, and the Ingresses it
   * held before the move are released.
   */
  | { kind: 'elsewhere' }
  | { kind: 'holds'; holds: Hold[] };

export function holdsOf(rollout: Rollout, pluginName: string, place: CleanupContext['placeOf']): Holds {
  const where = place(rollout);
  if (where === 'none') return { kind: 'none' };
  if (where === 'elsewhere') return { kind: 'elsewhere' };
  try {
    const ctx = rolloutContext(rollout, pluginName);
    return { kind: 'holds', holds: ctx.config.ingresses.map((ing) => ({ ingress: ing.name, target: releaseTargetOf(ctx, ing.name) })) };
  } catch (err) {
    return { kind: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Holds in `before` whose Ingress is no longer named in `after`. */
export function droppedHolds(before: Hold[], after: Holds): Hold[] {
  if (after.kind === 'unknown') return [];
  // A Rollout that moved to another mode names no Ingress any more: everything it held is dropped.
  const kept = new Set(after.kind === 'holds' ? after.holds.map((h) => h.ingress) : []);
  return before.filter((h) => !kept.has(h.ingress));
}

/** Ingress names the built-in `trafficRouting.alb` block of a Rollout points at (Argo owns those entries). */
export function builtInAlbIngresses(rollout: Rollout): string[] {
  const alb = rollout.spec?.strategy?.canary?.trafficRouting?.alb as { ingress?: unknown; ingresses?: unknown } | undefined;
  if (!alb || typeof alb !== 'object') return [];
  const out: string[] = [];
  if (typeof alb.ingress === 'string' && alb.ingress !== '') out.push(alb.ingress);
  if (Array.isArray(alb.ingresses)) out.push(...alb.ingresses.filter((i): i is string => typeof i === 'string'));
  return out;
}
