// Target-group IP/health verification for the target groups the driven rule weights. The TargetGroupBindings
// name the Services, so the verifier's `verifyTargets(service)` (src/verify/targets.ts) does the work; this
// narrows its report to the one target group each role (stable/canary, or ping/pong) is driven through, since
// a Service may also be bound to target groups of other load balancers that this rule never sends traffic to.
import type { TargetGroupTargetsReport, TargetsReport, TargetVerifier, VerifyMode } from '../verify/targets.js';
import { resolveRole, type BindingReader } from './bindings.js';
import type { ListenerRuleConfig, RoleTarget } from './config.js';

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

/**
 * The Service whose pods belong in a role's target group: the Rollout's Service for the role, else the
 * serviceRef of the role's binding, else the one binding in the namespace that points at the role's ARN.
 * Undefined when nothing names one (a target group whose targets Kubernetes does not manage).
 */
export async function roleService(role: RoleTarget, namespace: string, arn: string, reader: BindingReader): Promise<string | undefined> {
  if (role.service) return role.service;
  if ('targetGroupBinding' in role.ref) return (await reader.getTargetGroupBinding(namespace, role.ref.targetGroupBinding))?.serviceName;
  const services = new Set(
    (await reader.listTargetGroupBindings(namespace)).filter((b) => b.targetGroupArn === arn).map((b) => b.serviceName),
  );
  return services.size === 1 ? [...services][0] : undefined;
}

/** `verifyTargets(service)` narrowed to one target group; no binding of the pair means nothing to wait for. */
export async function drivenTargets(
  verifier: TargetVerifier,
  namespace: string,
  service: string,
  targetGroupArn: string,
  mode?: VerifyMode,
): Promise<TargetsReport> {
  const full = await verifier.verifyTargets(namespace, service, mode);
  if (full.error && full.targetGroups.length === 0) return full;
  const mine = full.targetGroups.filter((t) => t.targetGroupArn === targetGroupArn);
  const ownReason = (r: string) => r.startsWith(`target group ${targetGroupArn} `) || r.startsWith(`target group ${targetGroupArn}:`);
  const errors = mine.filter((t) => t.error).map((t) => `${t.targetGroupArn}: ${t.error!}`);
  const report: TargetsReport = {
    namespace,
    service,
    mode: full.mode,
    ...(full.podTemplateHash !== undefined ? { podTemplateHash: full.podTemplateHash } : {}),
    verified: mine.every((t) => t.verified),
    reasons: full.reasons.filter(ownReason),
    targetGroups: mine,
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
  };
  if (mine.length === 0) {
    report.reasons.push(
      `no TargetGroupBinding binds Service ${namespace}/${service} to target group ${targetGroupArn}; ` +
        'its targets are not managed from Kubernetes, nothing to verify',
    );
  }
  return report;
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
