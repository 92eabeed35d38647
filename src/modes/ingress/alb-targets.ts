// Ingress mode's load balancers and target groups (src/plugin/mode.ts AlbTargets): from the weight check of the
// Rollout's current weights, per Ingress (in the plugin block's order) and load balancer, the target groups the action's canary and stable
// tuples resolved to (the LBC's resource tag, ping-pong roles as the check took them).

import type { Rollout } from '../../core/rollout.js';
import { currentWeights } from '../../core/weights.js';
import type { AlbTargets } from '../../plugin/mode.js';
import type { WeightReport } from './verify/weight-report.js';
import { weightRequest, type WeightRequest } from './view.js';

export async function ingressAlbTargets(
  pluginName: string,
  weights: { report(req: WeightRequest): Promise<WeightReport> },
  rollout: Rollout,
): Promise<AlbTargets[]> {
  const { desired, additional } = currentWeights(rollout);
  const report = await weights.report(weightRequest(rollout, pluginName, desired, additional));
  if (report.error) throw new Error(report.error);
  const out: AlbTargets[] = [];
  // Every Ingress or none: Argo keeps one status entry per Ingress, so a partial answer would shift them.
  if (report.ingresses.length === 0 || report.ingresses.some((i) => !i.loadBalancers.some((lb) => lb.arn && !lb.skipped))) return [];
  for (const ing of report.ingresses) {
    for (const lb of ing.loadBalancers) {
      if (!lb.arn || lb.skipped) continue;
      const tuples = lb.rules.flatMap((r) => r.targetGroups);
      const arnOf = (role: 'canary' | 'stable') => tuples.find((t) => t.role === role && t.targetGroupArn)?.targetGroupArn;
      const canary = arnOf('canary');
      const stable = arnOf('stable');
      out.push({ ingress: ing.ingress, loadBalancerArn: lb.arn, ...(canary ? { canaryTargetGroupArn: canary } : {}), ...(stable ? { stableTargetGroupArn: stable } : {}) });
    }
  }
  return out;
}
