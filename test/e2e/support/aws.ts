// The AWS side of the end-to-end stack: moto's EC2 seeded with what the AWS Load Balancer Controller
// discovers (a VPC and two tagged subnets), and reads of the load balancers the LBC then builds, the way a
// user would look at them in the console: listener rules with weights per target group, registered targets.
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MOTO_REGION } from '../../support/moto.js';

export const VPC_CIDR = '10.80.0.0/16';
/** The kwok Node's pod CIDR, inside the first subnet, so pod IPs are VPC addresses as on EKS. */
export const POD_CIDR = '10.80.1.0/24';
export const CLUSTER_NAME = 'e2e';

/** One EC2 Query API call; moto reads the region from the credential scope and checks no signature. */
async function ec2(endpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2016-11-15', ...params });
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EC2 ${action} failed: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text;
}

function xmlValue(xml: string, tag: string): string {
  const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml);
  if (!m) throw new Error(`no <${tag}> in EC2 answer: ${xml.slice(0, 300)}`);
  return m[1]!;
}

export interface Vpc {
  vpcId: string;
  subnetIds: string[];
}

/** A VPC with two public subnets in two zones, tagged for the LBC's subnet discovery. */
export async function seedVpc(endpoint: string): Promise<Vpc> {
  const vpcId = xmlValue(await ec2(endpoint, 'CreateVpc', { CidrBlock: VPC_CIDR }), 'vpcId');
  const zones = [`${MOTO_REGION}a`, `${MOTO_REGION}b`];
  const subnetIds: string[] = [];
  for (const [i, zone] of zones.entries()) {
    const subnetId = xmlValue(
      await ec2(endpoint, 'CreateSubnet', { VpcId: vpcId, CidrBlock: `10.80.${i * 16}.0/20`, AvailabilityZone: zone }),
      'subnetId',
    );
    subnetIds.push(subnetId);
    await ec2(endpoint, 'CreateTags', {
      'ResourceId.1': subnetId,
      'Tag.1.Key': 'kubernetes.io/role/elb',
      'Tag.1.Value': '1',
      'Tag.2.Key': `kubernetes.io/cluster/${CLUSTER_NAME}`,
      'Tag.2.Value': 'shared',
    });
  }
  return { vpcId, subnetIds };
}

export interface ForwardRule {
  listenerPort: number;
  priority: string;
  ruleArn: string;
  /** Target group ARN → weight, as the ALB forwards. */
  weights: Map<string, number>;
  conditions: Rule['Conditions'];
}

/** The load balancer whose DNS name is `hostname`, or undefined while there is none. */
export async function loadBalancerByHostname(elbv2: ElasticLoadBalancingV2Client, hostname: string): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeLoadBalancersCommand({ ...(marker ? { Marker: marker } : {}) }));
    const lb = page.LoadBalancers?.find((l) => l.DNSName === hostname);
    if (lb) return lb.LoadBalancerArn;
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

/** Every rule (and default action) of every listener that forwards to target groups. */
export async function forwardRules(elbv2: ElasticLoadBalancingV2Client, loadBalancerArn: string): Promise<ForwardRule[]> {
  const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }))).Listeners ?? [];
  const out: ForwardRule[] = [];
  for (const l of listeners) {
    const rules = (await elbv2.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn! }))).Rules ?? [];
    for (const r of rules) {
      const weights = new Map<string, number>();
      for (const a of r.Actions ?? []) {
        if (a.Type !== 'forward') continue;
        if (a.ForwardConfig?.TargetGroups?.length) {
          for (const tg of a.ForwardConfig.TargetGroups) weights.set(tg.TargetGroupArn!, tg.Weight ?? 1);
        } else if (a.TargetGroupArn) weights.set(a.TargetGroupArn, 1);
      }
      if (weights.size > 0) out.push({ listenerPort: l.Port ?? 0, priority: r.Priority ?? '', ruleArn: r.RuleArn!, weights, conditions: r.Conditions });
    }
  }
  return out;
}

export async function registeredTargets(elbv2: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<Array<{ ip: string; state: string }>> {
  const res = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (res.TargetHealthDescriptions ?? []).map((d) => ({ ip: d.Target?.Id ?? '', state: d.TargetHealth?.State ?? '' }));
}

/**
 * A certificate in moto's ACM (RequestCertificate), for HTTPS listeners: moto's ELBv2 refuses a listener whose
 * certificate ARN it does not know. Returns its ARN.
 */
export async function acmCertificate(endpoint: string, domain: string): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CertificateManager.RequestCertificate',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/acm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ DomainName: domain, ValidationMethod: 'DNS' }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`ACM RequestCertificate failed: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return (JSON.parse(text) as { CertificateArn: string }).CertificateArn;
}
