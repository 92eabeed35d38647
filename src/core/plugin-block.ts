// Which Rollouts use this plugin, and their block under `trafficRouting.plugins[<name>]`. Which mode a block
// asks for is the modes' own say (each Mode's `claims`, asked in order by src/plugin/mode-table.ts).

import type { Rollout } from './rollout.js';

/** The Rollout's block for this plugin, as written (undefined when it names another router or none). */
export function pluginBlock(rollout: Rollout, pluginName: string): unknown {
  return rollout.spec?.strategy?.canary?.trafficRouting?.plugins?.[pluginName];
}

/** The Rollout names this plugin under `trafficRouting.plugins` (whatever its block holds). */
export function usesPlugin(rollout: Rollout, pluginName: string): boolean {
  const plugins = rollout.spec?.strategy?.canary?.trafficRouting?.plugins;
  return !!plugins && Object.prototype.hasOwnProperty.call(plugins, pluginName);
}
