// One SetWeight/VerifyWeight of a listener-rule Rollout as the verifier's gate (src/verify/gate.ts) and the
// final-switch guard (src/verify/guard.ts) take it: the mode-neutral WeightStep of src/core/weights.ts.
import type { WeightDestination, Rollout } from '../../core/rollout.js';
import { weightStep, type WeightStep } from '../../core/weights.js';
import type { ListenerRuleConfig } from './config.js';

/**
 * The driven rule, the roles' target-group references and the stickiness are the step's target, so a
 * remembered verification is forgotten when any of them changes in the plugin block. `stableService`
 * overrides the Service the guard reports on (a binding may name it when the Rollout does not).
 */
export function ruleWeightStep(
  rollout: Rollout,
  config: ListenerRuleConfig,
  desiredWeight: number,
  additionalDestinations: WeightDestination[],
  stableService?: string,
): WeightStep {
  return weightStep(rollout, {
    mode: 'listener-rule',
    target: [config.rule, config.stable.ref, config.canary.ref, config.stickiness ?? null],
    services: { stable: stableService ?? config.stable.service ?? '', canary: config.canary.service ?? '', pingPong: config.pingPong },
    desiredWeight,
    additionalDestinations,
    maxWeight: config.maxWeight,
  });
}
