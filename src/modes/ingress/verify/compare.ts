// Pure comparison of the weights an Ingress asks for with the listener rules DescribeRules returned.
// Unlike Argo (argo-alb-spec.md §7.2, §11.3) it checks canary, stable and every experiment, only on the
// rules that implement this Rollout's action, and every such rule on every listener must agree.
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ExpectedTuple, TupleRole } from './expected.js';

export interface ForwardTuple {
  targetGroupArn: string;
  weight: number;
}

/**
 * The weighted target groups of a rule's forward action(s), or undefined when the rule does not forward
 * (redirect, fixed response). ForwardConfig wins; a lone `TargetGroupArn` (or a single tuple, which real
 * ELBv2 reports with Weight 1) carries all the traffic, expressed as `fullWeight`.
 */
export function forwardTuples(rule: Rule, fullWeight: number): ForwardTuple[] | undefined {
  const forwards = (rule.Actions ?? []).filter((a) => a.Type === 'forward');
  if (forwards.length === 0) return undefined;
  const out: ForwardTuple[] = [];
  for (const a of forwards) {
    const tgs = a.ForwardConfig?.TargetGroups ?? [];
    if (tgs.length > 0) {
      const listed = tgs.filter((t) => t.TargetGroupArn);
      if (listed.length === 1) {
        out.push({ targetGroupArn: listed[0]!.TargetGroupArn!, weight: fullWeight });
      } else {
        for (const t of listed) out.push({ targetGroupArn: t.TargetGroupArn!, weight: t.Weight ?? 1 });
      }
    } else if (a.TargetGroupArn) {
      out.push({ targetGroupArn: a.TargetGroupArn, weight: fullWeight });
    }
  }
  return out;
}

/** Looks up the resource tag of a target group; undefined when it has none or is unknown. */
export type ResourceIdOf = (targetGroupArn: string) => string | undefined;

export interface TupleReport {
  role: TupleRole | 'foreign';
  service?: string;
  resourceId?: string;
  targetGroupArn?: string;
  expected: number;
  /** Weight on the rule; 0 when the target group is not in the rule. */
  actual: number;
  ok: boolean;
}

export interface RuleReport {
  ruleArn: string;
  listenerArn?: string;
  priority?: string;
  verified: boolean;
  targetGroups: TupleReport[];
}

export interface RulesVerdict {
  verified: boolean;
  rules: RuleReport[];
  reasons: string[];
}

/**
 * The rules that implement the action: among rules forwarding to the stable target group, those that also
 * forward to another target group of the action (canary or experiment), or, when none does yet, the
 * stable-only ones. This leaves out header-route rules (canary only) and plain backends of the stable
 * service that share its target group.
 */
export function actionRules(
  rules: Rule[],
  expected: ExpectedTuple[],
  resourceIdOf: ResourceIdOf,
  fullWeight: number,
): Rule[] {
  const stableId = expected.find((t) => t.role === 'stable')?.resourceId;
  const ids = new Set(expected.map((t) => t.resourceId));
  const withStable: Array<{ rule: Rule; actionTgs: number }> = [];
  for (const rule of rules) {
    const tuples = forwardTuples(rule, fullWeight);
    if (!tuples) continue;
    const tagged = tuples.map((t) => resourceIdOf(t.targetGroupArn));
    if (!tagged.includes(stableId)) continue;
    withStable.push({ rule, actionTgs: new Set(tagged.filter((id) => id !== undefined && ids.has(id))).size });
  }
  const multi = withStable.filter((r) => r.actionTgs >= 2);
  return (multi.length > 0 ? multi : withStable).map((r) => r.rule);
}

function roleText(t: { role: TupleRole | 'foreign'; service?: string }): string {
  return t.role === 'foreign' ? 'target group' : `${t.role} weight (Service ${t.service})`;
}

/** Compares one rule against the expected tuples. Missing target groups count as weight 0. */
export function compareRule(
  rule: Rule,
  expected: ExpectedTuple[],
  resourceIdOf: ResourceIdOf,
  fullWeight: number,
): { report: RuleReport; reasons: string[] } {
  const tuples = forwardTuples(rule, fullWeight) ?? [];
  const byId = new Map<string, ForwardTuple[]>();
  const foreign: TupleReport[] = [];
  const ids = new Set(expected.map((t) => t.resourceId));
  for (const t of tuples) {
    const id = resourceIdOf(t.targetGroupArn);
    if (id !== undefined && ids.has(id)) {
      byId.set(id, [...(byId.get(id) ?? []), t]);
    } else if (t.weight !== 0) {
      foreign.push({ role: 'foreign', targetGroupArn: t.targetGroupArn, expected: 0, actual: t.weight, ok: false, ...(id ? { resourceId: id } : {}) });
    }
  }
  const reports: TupleReport[] = expected.map((e) => {
    const found = byId.get(e.resourceId) ?? [];
    const actual = found.reduce((s, t) => s + t.weight, 0);
    return {
      role: e.role,
      service: e.service,
      resourceId: e.resourceId,
      ...(found[0] ? { targetGroupArn: found[0].targetGroupArn } : {}),
      expected: e.weight,
      actual,
      ok: actual === e.weight,
    };
  });
  const all = [...reports, ...foreign];
  const where = `rule ${rule.RuleArn ?? '?'}`;
  const reasons = all
    .filter((r) => !r.ok)
    .map((r) =>
      r.role === 'foreign'
        ? `${where} forwards weight ${r.actual} to target group ${r.targetGroupArn}, which is not part of this action`
        : r.targetGroupArn === undefined && r.expected !== 0
          ? `${where}: ${roleText(r)} ${r.expected} not yet set: no target group tagged ${r.resourceId} in the rule`
          : `${where}: ${roleText(r)} ${r.expected} not yet set (current: ${r.actual})`,
    );
  return {
    report: {
      ruleArn: rule.RuleArn ?? '',
      ...(rule.Priority !== undefined ? { priority: rule.Priority } : {}),
      verified: reasons.length === 0,
      targetGroups: all,
    },
    reasons,
  };
}

/** Verdict for one Ingress on one load balancer, given every rule fetched for it. */
export function compareRules(
  rules: Rule[],
  expected: ExpectedTuple[],
  resourceIdOf: ResourceIdOf,
  fullWeight: number,
): RulesVerdict {
  const scoped = actionRules(rules, expected, resourceIdOf, fullWeight);
  if (scoped.length === 0) {
    const stable = expected.find((t) => t.role === 'stable');
    return {
      verified: false,
      rules: [],
      reasons: [`no listener rule forwards to the stable target group (tag ${stable?.resourceId ?? '?'})`],
    };
  }
  const results = scoped.map((r) => compareRule(r, expected, resourceIdOf, fullWeight));
  const reasons = results.flatMap((r) => r.reasons);
  return { verified: reasons.length === 0, rules: results.map((r) => r.report), reasons };
}
