// Gateway mode's load balancers and target groups (src/plugin/mode.ts AlbTargets): from the check of the current
// weights on the Gateway's ALB, per load balancer the target groups of the stable and canary Services (the LBC's
// TargetGroupBindings for the Gateway, ping-pong roles from the Rollout's status).

import { loadBalancerArnOf } from '../../aws/arns.js';
import type { Rollout } from '../../core/rollout.js';
import { currentWeights, desiredWeights, type DesiredWeight } from '../../core/weights.js';
import type { AlbTargets } from '../../plugin/mode.js';
import { parseGatewayConfig, type GatewayConfig } from './config.js';
import type { GatewayWeightReport } from './verify/check.js';

export async function gatewayAlbTargets(
  pluginName: string,
  report: (config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal) => Promise<GatewayWeightReport>,
  rollout: Rollout,
  signal: AbortSignal,
): Promise<AlbTargets[]> {
  const config = parseGatewayConfig(rollout, pluginName);
  const { desired, additional } = currentWeights(rollout);
  const want = desiredWeights({ desiredWeight: desired, additionalDestinations: additional, maxWeight: config.maxWeight, services: config.services });
  const checked = await report(config, want, signal);
  if (checked.error) throw new Error(checked.error);
  const byLb = new Map<string, AlbTargets>();
  for (const rule of checked.rules) {
    const lb = rule.ruleArn ? loadBalancerArnOf(rule.ruleArn) : undefined;
    if (!lb || byLb.has(lb)) continue;
    const canary = rule.targetGroups?.[config.services.canary];
    const stable = rule.targetGroups?.[config.services.stable];
    byLb.set(lb, { loadBalancerArn: lb, ...(canary ? { canaryTargetGroupArn: canary } : {}), ...(stable ? { stableTargetGroupArn: stable } : {}) });
  }
  return [...byLb.values()];
}
