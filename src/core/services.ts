// Which Services get the stable and canary weights. With ping-pong the roles alternate: the status field
// `stablePingPong` holds a role, "ping" meaning ping is stable; anything else ("pong", "", or a stray value)
// means pong is stable, exactly as Argo reads it (rollout/trafficrouting.go, status.canary.stablePingPong). With ping-pong set, ALB uses ping and pong even
// when stableService and canaryService are set too (Argo #3628).

import { CANARY, ConfigError } from './fields.js';
import type { CanaryStrategy, Rollout } from './rollout.js';

export type PingPongRole = 'ping' | 'pong';

export interface ServiceRoles {
  /** The Service that gets what the canary and experiments leave; '' when the Rollout names none. */
  stable: string;
  canary: string;
  pingPong: boolean;
  /** With ping-pong: which of the two holds the stable role now (the other is the canary). */
  stableRole?: PingPongRole;
}

export function serviceRoles(rollout: Rollout): ServiceRoles {
  const canary = rollout.spec.strategy.canary ?? {};
  const pp = canary.pingPong;
  if (pp && pp.pingService && pp.pongService) {
    const pingIsStable = rollout.status?.canary?.stablePingPong === 'ping';
    return {
      stable: pingIsStable ? pp.pingService : pp.pongService,
      canary: pingIsStable ? pp.pongService : pp.pingService,
      pingPong: true,
      stableRole: pingIsStable ? 'ping' : 'pong',
    };
  }
  return { stable: canary.stableService ?? '', canary: canary.canaryService ?? '', pingPong: false };
}

/**
 * Argo's rules for the Services of a canary: ping-pong names two different Services; otherwise stable and
 * canary differ, and with `required` (a mode that writes Service names) both are set.
 */
export function checkServices(canary: CanaryStrategy, required: boolean): void {
  const pp = canary.pingPong;
  if (pp) {
    if (!pp.pingService || !pp.pongService) {
      const missing = !pp.pingService ? 'pingService' : 'pongService';
      throw new ConfigError(`${CANARY}.pingPong.${missing}`, 'Ping service and Pong service must to be set to use Ping-Pong feature');
    }
    if (pp.pingService === pp.pongService) {
      throw new ConfigError(`${CANARY}.pingPong.pingService`, 'the ping and pong services are the same; name two different Services');
    }
    return;
  }
  if (required && !canary.stableService) {
    throw new ConfigError(`${CANARY}.stableService`, 'Canary service and Stable service must to be set to use Traffic Routing');
  }
  if (required && !canary.canaryService) {
    throw new ConfigError(`${CANARY}.canaryService`, 'Canary service and Stable service must to be set to use Traffic Routing');
  }
  if (canary.stableService && canary.stableService === canary.canaryService) {
    throw new ConfigError(
      `${CANARY}.stableService`,
      'This rollout uses the same service for the stable and canary services, but two different services are required.',
    );
  }
}
