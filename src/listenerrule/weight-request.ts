// The verifier's gate (src/verify/gate.ts) and final-switch guard (src/verify/guard.ts) take Ingress-mode
// WeightRequests. Their logic only looks at the Rollout's status, the weights and the ping-pong flag, plus
// an identity for "what was verified"; this maps a listener-rule config onto that shape so both are reused
// as they are instead of copied.
import type { Rollout, WeightDestination } from '../trafficrouter/rollout.js';
import type { WeightRequest } from '../trafficrouter/types.js';
import type { ListenerRuleConfig } from './config.js';

/**
 * A WeightRequest standing for one listener-rule SetWeight/VerifyWeight. The driven rule, the roles'
 * target-group references and the stickiness take the place of the Ingress, so a remembered verification
 * is forgotten when any of them changes in the plugin block. `stableService` overrides the Service the
 * guard reports on (a binding may name it when the Rollout does not).
 */
export function weightRequestFor(
  rollout: Rollout,
  config: ListenerRuleConfig,
  desiredWeight: number,
  additionalDestinations: WeightDestination[],
  stableService?: string,
): WeightRequest {
  const identity = JSON.stringify(['listenerRule', config.rule, config.stable.ref, config.canary.ref, config.stickiness ?? null]);
  return {
    rollout,
    config: { ingresses: [{ name: identity, servicePort: 0 }], singleIngress: true, servicePort: 0, annotationPrefix: '' },
    services: {
      stable: stableService ?? config.stable.service ?? '',
      canary: config.canary.service ?? '',
      action: '',
      pingPong: config.pingPong,
    },
    desiredWeight,
    additionalDestinations,
    maxWeight: config.maxWeight,
  };
}
