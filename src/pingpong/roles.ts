// Which Services get the stable and canary weights. With ping-pong the roles alternate: the status field
// `stablePingPong` holds a role, "ping" meaning ping is stable; anything else ("pong", "", or a stray value)
// means pong is stable, exactly as Argo reads it (spec §5).

import type { Rollout } from '../trafficrouter/rollout.js';
import type { AlbPluginConfig, EffectiveServices } from '../trafficrouter/types.js';

export function effectiveServices(rollout: Rollout, config: AlbPluginConfig): EffectiveServices {
  const canary = rollout.spec.strategy.canary ?? {};
  const pp = canary.pingPong;
  if (pp && pp.pingService && pp.pongService) {
    const pingIsStable = rollout.status?.canary?.stablePingPong === 'ping';
    return {
      stable: pingIsStable ? pp.pingService : pp.pongService,
      canary: pingIsStable ? pp.pongService : pp.pingService,
      // parsePluginConfig requires rootService with ping-pong; the ping/pong names never become the key.
      action: config.rootService ?? '',
      pingPong: true,
    };
  }
  const stable = canary.stableService ?? '';
  return { stable, canary: canary.canaryService ?? '', action: config.rootService ?? stable, pingPong: false };
}
