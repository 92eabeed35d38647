// Which Ingresses a Rollout holds and how to release each one (pure). The answer comes from the Rollout as
// last seen, so ping-pong roles (status.canary.stablePingPong) and rootService are those of the last write,
// not guesses from the annotation key as in Argo's cleanup (spec §3.4). When the Rollout was never seen
// (deleted while the sidecar was down), it is read from the Ingress: Argo's action lists stable last.

import type { Ingress } from '../k8s/ingress.js';
import { isListenerRuleConfig } from '../listenerrule/config.js';
import { parseForwardAction } from '../trafficrouter/action.js';
import { actionKey, splitRouteKey } from '../trafficrouter/keys.js';
import { parseManagedAnnotations } from '../trafficrouter/managed.js';
import type { ReleaseTarget } from '../trafficrouter/release.js';
import type { Rollout } from '../trafficrouter/rollout.js';
import { PLUGIN_MANAGED_KEY } from '../trafficrouter/types.js';
import { rolloutContext } from '../trafficrouter/view.js';

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
  | { kind: 'holds'; holds: Hold[] };

export function usesPlugin(rollout: Rollout, pluginName: string): boolean {
  const plugins = rollout.spec?.strategy?.canary?.trafficRouting?.plugins;
  return !!plugins && Object.prototype.hasOwnProperty.call(plugins, pluginName);
}

/** The plugin block asks for listener-rule mode (it has `listenerRule`, readable or not). */
export function inListenerRuleMode(rollout: Rollout, pluginName: string): boolean {
  return usesPlugin(rollout, pluginName) && isListenerRuleConfig(rollout.spec.strategy.canary?.trafficRouting?.plugins?.[pluginName]);
}

export function holdsOf(rollout: Rollout, pluginName: string): Holds {
  if (!usesPlugin(rollout, pluginName)) return { kind: 'none' };
  if (inListenerRuleMode(rollout, pluginName)) return { kind: 'listenerRule' };
  try {
    const ctx = rolloutContext(rollout, pluginName);
    const key = actionKey(ctx.config.annotationPrefix, ctx.services.action);
    return {
      kind: 'holds',
      holds: ctx.config.ingresses.map((ing) => ({
        ingress: ing.name,
        target: { rolloutName: rollout.metadata.name, stableService: ctx.services.stable, servicePort: ing.servicePort, actionKey: key },
      })),
    };
  } catch (err) {
    return { kind: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Holds in `before` whose Ingress is no longer named in `after`. */
export function droppedHolds(before: Hold[], after: Holds): Hold[] {
  if (after.kind === 'unknown') return [];
  // A Rollout that moved to listener-rule mode names no Ingress any more: everything it held is dropped.
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

/**
 * Release target read from the Ingress alone, for a Rollout that is gone and was never seen: the weighted
 * action is the entry's `actions.*` key without a `conditions.*` twin, and its stable service is the last
 * target group (Argo and this plugin write canary first, stable last). Undefined when that cannot be read;
 * then nothing is guessed.
 */
export function inferTarget(ingress: Ingress, rolloutName: string): ReleaseTarget | undefined {
  const keys = parseManagedAnnotations(ingress.metadata.annotations?.[PLUGIN_MANAGED_KEY]).get(rolloutName);
  if (!keys) return undefined;
  const main = keys.find((k) => {
    const parts = splitRouteKey(k);
    return parts?.kind === 'actions' && !keys.some((o) => {
      const op = splitRouteKey(o);
      return op?.kind === 'conditions' && op.name === parts.name;
    });
  });
  // Only header-route keys left: there is no action to reset, and an actionKey that matches no key makes
  // releaseRollout delete every key of the entry.
  if (main === undefined) return { rolloutName, stableService: '', servicePort: 0, actionKey: '' };
  const action = parseForwardAction(ingress.metadata.annotations?.[main]);
  const stable = action?.targetGroups[action.targetGroups.length - 1];
  if (!stable || !stable.serviceName) return undefined;
  const port = Number(stable.servicePort);
  if (!Number.isInteger(port) || port < 1) return undefined;
  return { rolloutName, stableService: stable.serviceName, servicePort: port, actionKey: main };
}
