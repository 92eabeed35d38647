// Target-group health for the target groups the driven rule weights. The TargetGroupBindings name the
// Services, so the verifier's `verifyTargets(service)` (src/verify/target-health.ts) does the work; this narrows its
// report to the one target group each role (stable/canary, or ping/pong) is driven through, since a Service
// may also be bound to target groups of other load balancers that this rule never sends traffic to.
import type { TargetsReport, TargetVerifier, VerifyMode } from '../../verify/target-health.js';
import type { BindingReader } from './bindings.js';
import type { RoleTarget } from './config.js';

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
