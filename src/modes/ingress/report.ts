// Ingress mode's part of the HTTP API report: the weight check of every Ingress's rules (the verifier's ungated
// `report`) and the target check of the Services that should carry traffic now.

import type { Rollout } from '../../core/rollout.js';
import { currentWeights, stableWeight } from '../../core/weights.js';
import type { IngressReport, ModeReport } from '../../plugin/report.js';
import type { TargetsReport } from '../../verify/target-health.js';
import { reportVerdict, servicesCarryingTraffic, targetGroupsFrom, targetReasons, weightMap } from '../../verify/target-report.js';
import type { IngressWeightReport } from './verify/weight-check.js';
import type { WeightReport } from './verify/weight-report.js';
import { weightRequest, type WeightRequest } from './view.js';

export interface IngressReportDeps {
  pluginName: string;
  weights: { report(req: WeightRequest): Promise<WeightReport> };
  targets: { verifyTargets(namespace: string, service: string): Promise<TargetsReport> };
}

function ingressFromWeights(r: IngressWeightReport): IngressReport {
  const lb = r.loadBalancers[0];
  const rules = r.loadBalancers.flatMap((l) =>
    l.rules.map((rule) => ({
      arn: rule.ruleArn,
      listenerArn: rule.listenerArn ?? null,
      priority: rule.priority ?? null,
      expectedWeights: weightMap(rule.targetGroups.map((t) => ({ service: t.service, weight: t.expected }))),
      actualWeights: weightMap(rule.targetGroups.map((t) => ({ service: t.service ?? t.targetGroupArn, weight: t.actual }))),
      verified: rule.verified,
    })),
  );
  return {
    name: r.ingress,
    loadBalancer: { hostname: lb?.hostname ?? null, arn: lb?.arn ?? null, name: lb?.name ?? null },
    rules,
    expectedWeights: weightMap(r.expected),
    // Every matching rule must carry the same split; the first one stands for the Ingress.
    actualWeights: rules[0]?.actualWeights ?? {},
    verified: r.verified,
    reasons: [...r.reasons, ...r.loadBalancers.flatMap((l) => l.reasons)],
  };
}

export async function ingressModeReport(deps: IngressReportDeps, rollout: Rollout): Promise<ModeReport> {
  const ns = rollout.metadata.namespace || 'default';
  const { desired, additional } = currentWeights(rollout);
  const req = weightRequest(rollout, deps.pluginName, desired, additional);
  const services = servicesCarryingTraffic(req.services, stableWeight(req), desired);
  const [weights, ...targets] = await Promise.all([deps.weights.report(req), ...services.map((s) => deps.targets.verifyTargets(ns, s))]);
  return {
    ...reportVerdict(weights, targets, targets.flatMap(targetReasons)).whole,
    ingresses: weights.ingresses.map(ingressFromWeights),
    targetGroups: targets.flatMap(targetGroupsFrom),
  };
}
