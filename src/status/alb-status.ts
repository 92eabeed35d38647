// `status.alb` and `status.albs` exactly as Argo's built-in ALB router fills them (pure), so that AnalysisTemplates
// taking `valueFrom.fieldRef.fieldPath: status.alb.canaryTargetGroup.fullName` (and the others) keep working after
// a move to this plugin. From rollout/trafficrouting/alb/alb.go (argo-rollouts v1.10.1):
//   * updateLoadBalancerStatus: name, ARN, and `fullName` = the ARN split at "/" from the third part on, i.e.
//     `<name>/<id>` (without the `app/` CloudWatch's LoadBalancer dimension carries);
//   * updateTargetGroupStatus: name, ARN, `fullName` = the ARN from the second part on: `<name>/<id>` (without
//     `targetgroup/`); a role whose target group is not found keeps empty strings (AwsResourceRef has no omitempty);
//   * VerifyWeight: one `albs` entry per Ingress (`ingress` set), `alb` the last one filled.
// Listener-rule and Gateway mode have no Ingress: one entry per load balancer, without `ingress`.

import type { AlbTargets } from '../plugin/mode.js';

/** Argo's AwsResourceRef (pkg/apis/rollouts/v1alpha1/types.go). */
export interface AwsResourceRef {
  name: string;
  arn: string;
  fullName: string;
}

/** Argo's ALBStatus. */
export interface AlbStatus {
  loadBalancer: AwsResourceRef;
  canaryTargetGroup: AwsResourceRef;
  stableTargetGroup: AwsResourceRef;
  ingress?: string;
}

export interface AlbStatusFields {
  alb: AlbStatus;
  albs: AlbStatus[];
}

const EMPTY: AwsResourceRef = { name: '', arn: '', fullName: '' };

/** Argo's ref of an ELBv2 ARN: `skip` parts of the "/"-split ARN are left out of fullName. */
function ref(arn: string | undefined, skip: number): AwsResourceRef {
  if (!arn) return { ...EMPTY };
  const parts = arn.split('/');
  const fullName = parts.length > skip ? parts.slice(skip).join('/') : '';
  // The name is the part after the resource type (`app/<name>/<id>`, `targetgroup/<name>/<id>`).
  const name = skip === 2 ? (parts[2] ?? '') : (parts[1] ?? '');
  return { name, arn, fullName };
}

export function albStatusOf(t: AlbTargets): AlbStatus {
  return {
    loadBalancer: ref(t.loadBalancerArn, 2),
    canaryTargetGroup: ref(t.canaryTargetGroupArn, 1),
    stableTargetGroup: ref(t.stableTargetGroupArn, 1),
    ...(t.ingress ? { ingress: t.ingress } : {}),
  };
}

/**
 * The fields for the targets found; undefined when nothing was found. Targets naming an Ingress (Ingress mode,
 * which reports every Ingress of the Rollout or none) give one entry per Ingress in their order, the last load
 * balancer of an Ingress winning as in Argo's loop over its hostnames; the others one entry per load balancer.
 */
export function albStatusFields(targets: readonly AlbTargets[]): AlbStatusFields | undefined {
  if (targets.length === 0) return undefined;
  const byKey = new Map<string, AlbTargets>();
  for (const t of targets) byKey.set(t.ingress !== undefined ? `ingress:${t.ingress}` : `lb:${t.loadBalancerArn}`, t);
  const albs = [...byKey.values()].map(albStatusOf);
  return { alb: albs[albs.length - 1]!, albs };
}

/** The Rollout's status already holds these fields (compared by value, key order aside). */
export function sameAlbStatus(status: { alb?: unknown; albs?: unknown } | undefined, want: AlbStatusFields): boolean {
  return canonical(status?.alb) === canonical(want.alb) && canonical(status?.albs) === canonical(want.albs);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
}
