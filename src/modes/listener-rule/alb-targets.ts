// Listener-rule mode's load balancer and target groups (src/plugin/mode.ts AlbTargets): the driven rule's load
// balancer, and the target groups SetWeight writes for the current weights (canary first, stable last, with
// ping-pong roles and bindings resolved by the same planner).

import { loadBalancerArnOf } from '../../aws/arns.js';
import type { Rollout, WeightDestination } from '../../core/rollout.js';
import { currentWeights } from '../../core/weights.js';
import type { AlbTargets } from '../../plugin/mode.js';
import type { ListenerRuleWeightReport } from './reports.js';

export async function listenerRuleAlbTargets(
  weightReport: (rollout: Rollout, desired: number, extra: WeightDestination[]) => Promise<ListenerRuleWeightReport>,
  rollout: Rollout,
): Promise<AlbTargets[]> {
  const { desired, additional } = currentWeights(rollout);
  const report = await weightReport(rollout, desired, additional);
  if (report.error) throw new Error(report.error);
  const lb = loadBalancerArnOf(report.ruleArn ?? report.listenerArn ?? '');
  if (!lb || report.expected.length === 0) return [];
  const canary = report.expected.length > 1 ? report.expected[0]!.targetGroupArn : undefined;
  const stable = report.expected[report.expected.length - 1]!.targetGroupArn;
  return [{ loadBalancerArn: lb, stableTargetGroupArn: stable, ...(canary ? { canaryTargetGroupArn: canary } : {}) }];
}
