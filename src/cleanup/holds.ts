// Which Ingresses a Rollout holds and how to release each one (pure). The answer comes from the Rollout as
// last seen, so ping-pong roles (status.canary.stablePingPong) and rootService are those of the last write,
// not guesses from the annotation key as in Argo's cleanup (spec §3.4). A Rollout never seen is read from
// the Ingress instead (`inferTarget`, ingress-release.ts).

import { routingMode } from '../core/plugin-block.js';
import type { Rollout } from '../core/rollout.js';
import { rolloutContext } from '../modes/ingress/view.js';
import { releaseTargetOf, type ReleaseTarget } from '../modes/ingress/release.js';

export interface Hold {
  ingress: string;
  target: ReleaseTarget;
}

/** `ns/name`, the identity a managed entry can be matched against (entries name Rollouts in the Ingress's namespace). */
export function rolloutId(namespace: string | undefined, name: string): string {
  return `${namespace || 'default'}/${name}`;
}

export type Holds =
  /** The Rollout does not use this plugin: it holds nothing through us. */
  | { kind: 'none' }
  /** The plugin block cannot be read (mid-edit, invalid): nothing can be concluded. */
  | { kind: 'unknown'; reason: string }
  /**
   * Listener-rule mode (the block has `listenerRule`): the Rollout holds a listener rule, never an Ingress.
   * Kept apart from `unknown` so such a Rollout does not look like a broken Ingress-mode block.
   */
  | { kind: 'listenerRule' }
  /**
   * Gateway mode (the block has `httpRoute(s)`): the Rollout holds HTTPRoute rules, never an Ingress. Kept apart
   * from `unknown` for the same reason, so that Ingresses held before a move to Gateway mode are released.
   */
  | { kind: 'gateway' }
  | { kind: 'holds'; holds: Hold[] };

/** The plugin block asks for listener-rule mode (it has `listenerRule`, readable or not). */
export function inListenerRuleMode(rollout: Rollout, pluginName: string): boolean {
  return routingMode(rollout, pluginName) === 'listenerRule';
}

/** The plugin block asks for Gateway mode (it has `httpRoute` or `httpRoutes`, readable or not). */
export function inGatewayMode(rollout: Rollout, pluginName: string): boolean {
  return routingMode(rollout, pluginName) === 'gateway';
}

export function holdsOf(rollout: Rollout, pluginName: string): Holds {
  const mode = routingMode(rollout, pluginName);
  if (mode === undefined) return { kind: 'none' };
  if (mode === 'listenerRule') return { kind: 'listenerRule' };
  if (mode === 'gateway') return { kind: 'gateway' };
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
  // A Rollout that moved to listener-rule or Gateway mode names no Ingress any more: everything it held is dropped.
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
