// The HTTP API's reports on a listener-rule Rollout, ungated and never throwing after parsing: the driven
// rule's weights against the desired ones (one DescribeRules), and whether the driven stable and canary (or
// ping and pong) target groups hold their Services' ready pods.
import type { WeightDestination } from '../../core/rollout.js';
import type { Logger } from '../../logger.js';
import type { TargetGroupTargetsReport, TargetVerifier, VerifyMode } from '../../verify/target-health.js';
import { resolveRole, type BindingReader } from './bindings.js';
import type { ListenerRuleConfig, RoleTarget } from './config.js';
import type { DrivenRules } from './driven-rule.js';
import { drivenTargets, roleService } from './driven-target-health.js';
import { currentForward, forwardDifferences } from './forward.js';
import type { ListenerRuleElbv2, RuleLocation } from './locate.js';
import { planForward } from './rule-writer.js';

/** JSON-friendly result of an ungated weight check, for the HTTP API. */
export interface ListenerRuleWeightReport {
  rollout: string;
  verified: boolean;
  desiredWeight: number;
  maxWeight: number;
  /** The driven rule; absent for a listener's default action. */
  ruleArn?: string;
  listenerArn?: string;
  /** Canary, experiments, stable, as SetWeight writes them. */
  expected: Array<{ targetGroupArn: string; weight: number }>;
  /** The forward action as ELBv2 reports it now. */
  actual: Array<{ targetGroupArn: string; weight: number }>;
  reasons: string[];
  /** Set when the check could not finish (configuration, binding, AWS error). */
  error?: string;
}

export interface WeightCheck {
  location: RuleLocation;
  expected: ListenerRuleWeightReport['expected'];
  actual: ListenerRuleWeightReport['actual'];
  /** Empty when the rule carries the desired weights. */
  reasons: string[];
}

export interface WeightCheckDeps {
  bindings: BindingReader;
  rules: DrivenRules;
  logger?: Logger;
}

/** The driven rule's forward against the one this step asks for (VerifyWeight and the report). */
export async function checkWeights(
  deps: WeightCheckDeps,
  aws: ListenerRuleElbv2,
  config: ListenerRuleConfig,
  desiredWeight: number,
  additional: WeightDestination[],
): Promise<WeightCheck> {
  const { desired } = await planForward(config, desiredWeight, additional, deps.bindings);
  const { location, rule } = await deps.rules.read(config, aws);
  const current = currentForward(rule.Actions ?? []);
  const reasons = current ? forwardDifferences(current, desired) : ['the rule has no forward action'];
  // Debug only: VerifyWeight's verdict path logs every check it runs (src/verify/verdict.ts).
  if (reasons.length > 0) {
    deps.logger?.debug({ rollout: `${config.namespace}/${config.rolloutName}`, desiredWeight, reasons }, 'listener rule weights not verified');
  }
  return {
    location,
    expected: desired.targetGroups.map((t) => ({ targetGroupArn: t.arn, weight: t.weight })),
    actual: [...(current?.weights ?? new Map<string, number>())].map(([targetGroupArn, weight]) => ({ targetGroupArn, weight })),
    reasons,
  };
}

export async function weightReport(
  deps: WeightCheckDeps,
  aws: ListenerRuleElbv2,
  config: ListenerRuleConfig,
  desiredWeight: number,
  additional: WeightDestination[],
): Promise<ListenerRuleWeightReport> {
  const report: ListenerRuleWeightReport = {
    rollout: `${config.namespace}/${config.rolloutName}`,
    verified: false,
    desiredWeight,
    maxWeight: config.maxWeight,
    expected: [],
    actual: [],
    reasons: [],
  };
  try {
    const check = await checkWeights(deps, aws, config, desiredWeight, additional);
    if (check.location.ruleArn) report.ruleArn = check.location.ruleArn;
    report.listenerArn = check.location.listenerArn;
    report.expected = check.expected;
    report.actual = check.actual;
    report.reasons = check.reasons;
    report.verified = check.reasons.length === 0;
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
  }
  return report;
}

export interface RoleTargetsReport {
  role: 'stable' | 'canary';
  /** With ping-pong: which of the two Services holds the role right now. */
  pingPong?: 'ping' | 'pong';
  /** Config path of the role's target group. */
  field: string;
  service?: string;
  targetGroupArn?: string;
  verified: boolean;
  reasons: string[];
  error?: string;
  /** The role's target group as bound to its Service (one entry per binding of that pair). */
  targetGroups: TargetGroupTargetsReport[];
}

/** JSON-friendly result for the HTTP API: every driven target group holds its Service's ready pods. */
export interface ListenerRuleTargetsReport {
  rollout: string;
  /** The verifier's counting mode; absent when no role got as far as a check. */
  mode?: VerifyMode;
  verified: boolean;
  reasons: string[];
  error?: string;
  roles: RoleTargetsReport[];
}

export interface DrivenTargetsDeps {
  targets: TargetVerifier;
  bindings: BindingReader;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function pingPongOf(config: ListenerRuleConfig, role: RoleTarget): 'ping' | 'pong' | undefined {
  if (!config.pingPong) return undefined;
  return role.field.endsWith('.pingTargetGroup') ? 'ping' : 'pong';
}

async function roleReport(
  deps: DrivenTargetsDeps,
  config: ListenerRuleConfig,
  which: 'stable' | 'canary',
  mode: VerifyMode | undefined,
): Promise<{ report: RoleTargetsReport; mode?: VerifyMode }> {
  const role = config[which];
  const pingPong = pingPongOf(config, role);
  const report: RoleTargetsReport = {
    role: which,
    ...(pingPong ? { pingPong } : {}),
    field: role.field,
    verified: false,
    reasons: [],
    targetGroups: [],
  };
  try {
    const arn = await resolveRole(role, config.namespace, deps.bindings);
    report.targetGroupArn = arn;
    const service = await roleService(role, config.namespace, arn, deps.bindings);
    if (!service) {
      report.verified = true;
      report.reasons.push(`${which} target group ${arn}: no Service is bound to it (${role.field}); nothing to verify`);
      return { report };
    }
    report.service = service;
    const targets = await drivenTargets(deps.targets, config.namespace, service, arn, mode);
    report.verified = targets.verified && !targets.error;
    report.reasons = targets.reasons.map((r) => `${which} Service ${service}: ${r}`);
    report.targetGroups = targets.targetGroups;
    if (targets.error) report.error = targets.error;
    return { report, mode: targets.mode };
  } catch (err) {
    report.error = message(err);
    return { report };
  }
}

/** Checks the stable and canary (or ping and pong) target groups of the driven rule; never throws. */
export async function reportDrivenTargets(
  deps: DrivenTargetsDeps,
  config: ListenerRuleConfig,
  mode?: VerifyMode,
): Promise<ListenerRuleTargetsReport> {
  const results = await Promise.all([roleReport(deps, config, 'stable', mode), roleReport(deps, config, 'canary', mode)]);
  const roles = results.map((r) => r.report);
  const checkedMode = mode ?? results.find((r) => r.mode)?.mode;
  const errors = roles.filter((r) => r.error).map((r) => `${r.role} (${r.field}): ${r.error!}`);
  return {
    rollout: `${config.namespace}/${config.rolloutName}`,
    ...(checkedMode ? { mode: checkedMode } : {}),
    verified: roles.every((r) => r.verified),
    reasons: roles.flatMap((r) => r.reasons),
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    roles,
  };
}
