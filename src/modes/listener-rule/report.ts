// Listener-rule mode's part of the HTTP API report: the driven rule's weights against the current step's (the
// router's ungated `weightReport`) and, with target verification on, the target groups of the roles that should
// carry traffic now.

import type { Rollout, WeightDestination } from '../../core/rollout.js';
import { currentWeights, stableWeight } from '../../core/weights.js';
import type { ModeReport, TargetGroupReport, WeightMap } from '../../plugin/report.js';
import type { VerifyMode } from '../../verify/target-health.js';
import { reportVerdict, targetGroupsFrom, weightMap } from '../../verify/target-report.js';
import type { ListenerRuleTargetsReport, ListenerRuleWeightReport, RoleTargetsReport } from './reports.js';

export interface ListenerRuleReportDeps {
  weightReport(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<ListenerRuleWeightReport>;
  /** Absent when target verification is off: the report then covers the weights only. */
  targetsReport?(rollout: Rollout): Promise<ListenerRuleTargetsReport>;
}

function weightsByArn(entries: Array<{ targetGroupArn: string; weight: number }>): WeightMap {
  return weightMap(entries.map((e) => ({ service: e.targetGroupArn, weight: e.weight })));
}

/** One entry per bound target group of the role; a role with none still shows its target group and why. */
function roleTargetGroups(role: RoleTargetsReport, mode: VerifyMode | undefined): TargetGroupReport[] {
  const service = role.service ?? '';
  if (role.targetGroups.length === 0) {
    return [
      {
        role: role.role,
        service,
        targetGroupBinding: '',
        arn: role.targetGroupArn ?? null,
        expectedTargets: 0,
        registeredTargets: 0,
        healthyTargets: 0,
        verified: role.verified,
        reasons: [...role.reasons, ...(role.error ? [role.error] : [])],
      },
    ];
  }
  return targetGroupsFrom({ namespace: '', service, mode: mode ?? 'healthy', verified: role.verified, reasons: [], targetGroups: role.targetGroups }).map(
    (g) => ({ role: role.role, ...g }),
  );
}

function roleReasons(role: RoleTargetsReport): string[] {
  if (role.verified) return [];
  const own = [...role.reasons, ...(role.error ? [`${role.role} (${role.field}): ${role.error}`] : [])];
  return own.length > 0 ? own : [`${role.role} target group ${role.targetGroupArn ?? `(${role.field})`}: targets not verified`];
}

export async function listenerRuleModeReport(deps: ListenerRuleReportDeps, rollout: Rollout): Promise<ModeReport> {
  const { desired, additional } = currentWeights(rollout);
  const [weights, targets] = await Promise.all([
    deps.weightReport(rollout, desired, additional),
    deps.targetsReport?.(rollout),
  ]);
  const stable = stableWeight({ maxWeight: weights.maxWeight, desiredWeight: desired, additionalDestinations: additional });
  // As in Ingress mode, only target groups that should carry traffic need their targets in place.
  const roles = (targets?.roles ?? []).filter((r) => (r.role === 'stable' ? stable > 0 : desired > 0));
  const verdict = reportVerdict(weights, roles, roles.flatMap(roleReasons));
  return {
    ...verdict.whole,
    ingresses: [],
    listenerRule: {
      ruleArn: weights.ruleArn ?? null,
      listenerArn: weights.listenerArn ?? null,
      expectedWeights: weightsByArn(weights.expected),
      actualWeights: weightsByArn(weights.actual),
      ...verdict.weights,
    },
    targetGroups: roles.flatMap((r) => roleTargetGroups(r, targets?.mode)),
  };
}
