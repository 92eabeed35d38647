// Which Rollouts use this plugin, and in which mode. The plugin block under
// `trafficRouting.plugins[<name>]` decides: an `httpRoute` or `httpRoutes` field means Gateway mode (weighted
// backendRefs of Gateway API HTTPRoutes, built into an ALB by the LBC), a `listenerRule` field listener-rule
// mode (an ALB rule driven through ELBv2), anything else Ingress mode (the LBC's annotations on Ingresses).
// A block naming fields of two modes goes to Gateway mode first, whose parser refuses the combination.

import { isObject } from './fields.js';
import type { Rollout } from './rollout.js';

export type RoutingMode = 'ingress' | 'listenerRule' | 'gateway';

/** The Rollout's block for this plugin, as written (undefined when it names another router or none). */
export function pluginBlock(rollout: Rollout, pluginName: string): unknown {
  return rollout.spec?.strategy?.canary?.trafficRouting?.plugins?.[pluginName];
}

/** The Rollout names this plugin under `trafficRouting.plugins` (whatever its block holds). */
export function usesPlugin(rollout: Rollout, pluginName: string): boolean {
  const plugins = rollout.spec?.strategy?.canary?.trafficRouting?.plugins;
  return !!plugins && Object.prototype.hasOwnProperty.call(plugins, pluginName);
}

/** The mode a plugin block asks for; a block that is not an object is Ingress mode's to refuse. */
export function modeOfBlock(block: unknown): RoutingMode {
  if (!isObject(block)) return 'ingress';
  if (block.httpRoute !== undefined || block.httpRoutes !== undefined) return 'gateway';
  return block.listenerRule !== undefined ? 'listenerRule' : 'ingress';
}

/** The mode a Rollout asks for, or undefined when it does not use this plugin. */
export function routingMode(rollout: Rollout, pluginName: string): RoutingMode | undefined {
  return usesPlugin(rollout, pluginName) ? modeOfBlock(pluginBlock(rollout, pluginName)) : undefined;
}
