// The CloudWatch side of the analysis scenarios: the load balancer and target groups the LBC really built for an
// Ingress, read from ELBv2 the way a user finds them in the console (the LBC tags every target group with
// `ingress.k8s.aws/resource` = `<namespace>/<ingress>-<service>:<port>`), and ALB metrics published into moto's
// CloudWatch for them as AWS publishes them (test/analysis/alb-metrics.ts: namespace AWS/ApplicationELB, per
// minute, {LoadBalancer: app/<name>/<id>, TargetGroup: targetgroup/<name>/<id>} and per zone, RequestCount Sum,
// HTTPCode_Target_5XX_Count only in minutes with errors, TargetResponseTime as a statistic set).
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { forwardRules } from './aws.js';
import { cloudwatchClient, loadBalancerDatums, putDatums, targetGroupDatums, type MinuteTraffic } from '../../analysis/alb-metrics.js';

export { cloudwatchClient };

/** Argo's AwsResourceRef as it appears in status.alb. */
export interface ResourceRef {
  name: string;
  arn: string;
  fullName: string;
}

/** What Argo's built-in router writes into status.alb for one Ingress (rollout/trafficrouting/alb/alb.go). */
export interface AlbStatus {
  loadBalancer: ResourceRef;
  canaryTargetGroup: ResourceRef;
  stableTargetGroup: ResourceRef;
  ingress?: string;
}

export interface AlbResources {
  loadBalancer: ResourceRef;
  /** Service name → its target group on this load balancer. */
  targetGroups: Map<string, ResourceRef>;
}

/**
 * The load balancer with DNS name `hostname` and its target groups, keyed by Service through the LBC's tag.
 * fullName as Argo computes it: the ARN's "/"-parts from the third on for a load balancer (`<name>/<id>`), from
 * the second on for a target group (`<name>/<id>`); CloudWatch's dimensions add `app/` and `targetgroup/`.
 */
export async function albResources(elbv2: ElasticLoadBalancingV2Client, hostname: string, ns: string, ingress: string, port: number): Promise<AlbResources | undefined> {
  const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  const lb = lbs.find((l) => l.DNSName === hostname);
  if (!lb?.LoadBalancerArn) return undefined;
  // The target groups its listener rules forward to. (Not DescribeTargetGroups by LoadBalancerArn: moto 5.2.6
  // answers it with TargetGroupNotFound for the LBC's target groups; it links a target group to a load balancer
  // only in CreateListener/CreateRule, elbv2/models.py.)
  const arns = [...new Set((await forwardRules(elbv2, lb.LoadBalancerArn)).flatMap((r) => [...r.weights.keys()]))];
  const tgs = arns.length > 0 ? ((await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns }))).TargetGroups ?? []) : [];
  const targetGroups = new Map<string, ResourceRef>();
  if (tgs.length > 0) {
    const tags = (await elbv2.send(new DescribeTagsCommand({ ResourceArns: tgs.map((t) => t.TargetGroupArn!) }))).TagDescriptions ?? [];
    const prefix = `${ns}/${ingress}-`;
    const suffix = `:${port}`;
    for (const d of tags) {
      const id = d.Tags?.find((t) => t.Key === 'ingress.k8s.aws/resource')?.Value;
      if (!id?.startsWith(prefix) || !id.endsWith(suffix)) continue;
      const service = id.slice(prefix.length, id.length - suffix.length);
      const tg = tgs.find((t) => t.TargetGroupArn === d.ResourceArn)!;
      targetGroups.set(service, { name: tg.TargetGroupName!, arn: tg.TargetGroupArn!, fullName: tg.TargetGroupArn!.split('/').slice(1).join('/') });
    }
  }
  return {
    loadBalancer: { name: lb.LoadBalancerName!, arn: lb.LoadBalancerArn, fullName: lb.LoadBalancerArn.split('/').slice(2).join('/') },
    targetGroups,
  };
}

/** status.alb as Argo's built-in router would write it for these roles. */
export function expectedAlbStatus(res: AlbResources, ingress: string, stableService: string, canaryService: string): AlbStatus {
  const tg = (svc: string): ResourceRef => {
    const ref = res.targetGroups.get(svc);
    if (!ref) throw new Error(`no target group for Service ${svc} on ${res.loadBalancer.arn} (found: ${[...res.targetGroups.keys()].join(', ')})`);
    return ref;
  };
  return { loadBalancer: res.loadBalancer, canaryTargetGroup: tg(canaryService), stableTargetGroup: tg(stableService), ingress };
}

/** Traffic of one target group in the past `count` whole minutes (the current minute excluded), oldest first. */
export function pastMinutes(count: number, perMinute: { requests: number; errors?: number; latency?: number }, now = Date.now()): MinuteTraffic[] {
  const current = Math.floor(now / 60_000) * 60_000;
  const out: MinuteTraffic[] = [];
  for (let i = count; i >= 1; i--) out.push({ at: new Date(current - i * 60_000), ...perMinute });
  return out;
}

/**
 * Publishes the minutes of a canary and a stable target group of one load balancer, and the load balancer's
 * own RequestCount (their sum per minute). Dimensions from fullName, as AWS names them.
 */
export async function publishAlbTraffic(
  cw: CloudWatchClient,
  lb: ResourceRef,
  traffic: Array<{ targetGroup: ResourceRef; minutes: MinuteTraffic[] }>,
): Promise<number> {
  const lbDim = `app/${lb.fullName}`;
  const perMinute = new Map<number, { at: Date; requests: number }>();
  const datums = [];
  for (const t of traffic) {
    datums.push(...targetGroupDatums(lbDim, `targetgroup/${t.targetGroup.fullName}`, t.minutes));
    for (const m of t.minutes) {
      const e = perMinute.get(m.at.getTime()) ?? { at: m.at, requests: 0 };
      e.requests += m.requests;
      perMinute.set(m.at.getTime(), e);
    }
  }
  datums.push(...loadBalancerDatums(lbDim, [...perMinute.values()]));
  await putDatums(cw, datums);
  return datums.length;
}
