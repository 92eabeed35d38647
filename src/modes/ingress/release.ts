// Ingress mode's cleanup: what a Rollout leaves behind on an Ingress when it is deleted or stops naming it
// (the edit; modes/ingress/releaser.ts applies it). Argo's cleanup (ingress/alb.go in argo-rollouts)
// resets `actions.<X>` to 100 % on "the service named in the key", which is wrong for rootService and
// ping-pong Rollouts and gives up entirely on the first unreadable key; it also leaves conditions and
// header paths behind. Here the caller says which service is the effective stable one, every header key
// and inserted path of the Rollout goes, and other Rollouts' keys are never touched.

import { SOLE_WEIGHT } from '../../core/limits.js';
import type { Rollout } from '../../core/rollout.js';
import type { Ingress, IngressEdit } from '../../k8s/ingress.js';
import { encodeForwardAction, parseForwardAction, sameForwardAction, type ForwardAction } from './action.js';
import { actionKey, splitRouteKey } from './keys.js';
import { ownerOtherThan, parseManagedAnnotations } from './managed.js';
import { withoutRoutePaths } from './paths.js';
import { EditBuilder } from './plans.js';
import { PLUGIN_MANAGED_KEY } from './types.js';
import { rolloutContext, type RolloutContext } from './view.js';

export interface ReleaseTarget {
  rolloutName: string;
  /** Effective stable service (ping/pong-aware) that gets 100 % of the action. */
  stableService: string;
  /** Port written into the reset action (the Ingress's own servicePort). */
  servicePort: number;
  /**
   * Full key of the Rollout's weighted action (`<prefix>/actions.<rootService or stableService>`). When absent
   * it is the Rollout's first `actions.*` key that has no `conditions.*` twin (header routes have one).
   */
  actionKey?: string;
  /**
   * The built-in router drives this Ingress for the Rollout now (it moved back to `trafficRouting.alb`): only
   * the plugin's bookkeeping entry goes; the action, header routes and paths are Argo's from here on.
   */
  builtInTakesOver?: boolean;
}

/** The weighted action among a Rollout's keys: the `actions.*` key without a `conditions.*` twin (header routes have one). */
export function weightedActionKey(keys: string[]): string | undefined {
  return keys.find((k) => {
    const parts = splitRouteKey(k);
    if (parts?.kind !== 'actions') return false;
    return !keys.some((other) => {
      const o = splitRouteKey(other);
      return o?.kind === 'conditions' && o.name === parts.name;
    });
  });
}

/**
 * The edit that releases `target.rolloutName`'s hold on the Ingress, or an empty edit when it holds nothing.
 * Throws ManagedAnnotationsError when the managed annotation cannot be read (nothing is guessed).
 */
export function releaseRollout(ingress: Ingress, target: ReleaseTarget): IngressEdit {
  const b = new EditBuilder(ingress);
  const keys = b.managed.get(target.rolloutName);
  if (keys === undefined) return b.finish();
  if (target.builtInTakesOver) {
    b.managed = new Map(b.managed);
    b.managed.delete(target.rolloutName);
    return b.finish();
  }
  const mainKey = target.actionKey ?? weightedActionKey(keys);
  let rules = ingress.spec?.rules ?? [];
  for (const key of keys) {
    if (ownerOtherThan(b.managed, target.rolloutName, key) !== undefined) continue;
    if (key === mainKey) {
      const current = b.current(key);
      if (current === undefined) continue;
      const reset: ForwardAction = {
        targetGroups: [{ serviceName: target.stableService, servicePort: target.servicePort, weight: SOLE_WEIGHT }],
      };
      // Stickiness the user asked for stays; an unreadable value is simply replaced.
      const sticky = parseForwardAction(current)?.stickiness;
      if (sticky) reset.stickiness = sticky;
      b.set(key, encodeForwardAction(reset), (cur) => sameForwardAction(parseForwardAction(cur), reset));
      continue;
    }
    b.delete(key);
    const parts = splitRouteKey(key);
    if (parts?.kind === 'actions') rules = withoutRoutePaths(rules, parts.name);
  }
  b.managed = new Map(b.managed);
  b.managed.delete(target.rolloutName);
  b.setRules(rules);
  return b.finish();
}

/**
 * The release target for one Ingress from the last Rollout object seen (its spec for the port and action key,
 * its status for the ping-pong role). An Ingress the Rollout no longer lists falls back to the top servicePort.
 * Throws ConfigError when that Rollout's plugin block cannot be read.
 */
export function releaseTargetFor(rollout: Rollout, pluginName: string, ingressName: string): ReleaseTarget {
  return releaseTargetOf(rolloutContext(rollout, pluginName), ingressName);
}

export function releaseTargetOf(ctx: RolloutContext, ingressName: string): ReleaseTarget {
  const listed = ctx.config.ingresses.find((i) => i.name === ingressName);
  return {
    rolloutName: ctx.rolloutName,
    stableService: ctx.services.stable,
    servicePort: listed?.servicePort ?? ctx.config.servicePort,
    actionKey: actionKey(ctx.config.annotationPrefix, ctx.services.action),
  };
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
  const main = weightedActionKey(keys);
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
