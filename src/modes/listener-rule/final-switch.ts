// The final-switch guard in listener-rule mode (Argo #2864, #4433): right after a promotion without
// ping-pong, SetWeight(0) would move all traffic from the canary target group to the stable one, whose
// binding may not have registered the new pods yet. The verifier's guard (src/verify/guard.ts) decides on
// the mode-neutral WeightStep; its target check is narrowed to the driven stable target group. A hold
// throws, which keeps the rule at canary 100 and tells Argo what is awaited.

import type { Rollout, WeightDestination } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import type { CallContext } from '../../plugin/call.js';
import { createSetWeightGuard, isFinalSwitch } from '../../verify/guard.js';
import type { TargetVerifier } from '../../verify/target-health.js';
import type { BindingReader } from './bindings.js';
import type { ListenerRuleConfig } from './config.js';
import { drivenTargets, roleService } from './driven-target-health.js';
import { ruleWeightStep } from './weight-step.js';

export interface FinalSwitchDeps {
  bindings: BindingReader;
  /** Without target verification there is nothing to wait for. */
  targets?: TargetVerifier;
  /** Default true. */
  guardFinalSwitch?: boolean;
  logger?: Logger;
}

export async function holdFinalSwitch(
  deps: FinalSwitchDeps,
  rollout: Rollout,
  config: ListenerRuleConfig,
  desiredWeight: number,
  additional: WeightDestination[],
  stableArn: string,
  call: CallContext | undefined,
): Promise<void> {
  const verifier = deps.targets;
  if (!verifier || deps.guardFinalSwitch === false) return;
  if (!isFinalSwitch(ruleWeightStep(rollout, config, desiredWeight, additional))) return;
  const service = await roleService(config.stable, config.namespace, stableArn, deps.bindings);
  if (!service) return;
  const guard = createSetWeightGuard({
    enabled: true,
    verifyTargets: (namespace, svc) => drivenTargets(verifier, namespace, svc, stableArn),
  });
  const decision = await guard.beforeSetWeight(ruleWeightStep(rollout, config, desiredWeight, additional, service), call);
  if (!decision.hold) return;
  deps.logger?.info(
    { rollout: `${config.namespace}/${config.rolloutName}`, stableTargetGroup: stableArn, reason: decision.reason },
    'final switch to stable held',
  );
  throw new Error(`${decision.reason} (${config.stable.field} = ${stableArn})`);
}
