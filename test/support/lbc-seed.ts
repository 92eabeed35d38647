// Seeds moto the way the AWS Load Balancer Controller would for an Ingress (lbc-elbv2.md §2): LB and
// target-group names `k8s-<ns>-<name>-<hash>`, the tracking tags, listeners whose default action is the
// LBC's fixed 404, and listener rules with a weighted ForwardConfig.
import { createHash } from 'node:crypto';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MOTO_REGION } from './moto.js';

export const CLUSTER = 'test-cluster';
export const RESOURCE_TAG = 'ingress.k8s.aws/resource';

export interface Network {
  vpcId: string;
  subnetIds: string[];
  /** An ACM certificate for HTTPS listeners (moto checks that it exists). */
  certificateArn: string;
}

/** Raw EC2 query call: moto routes on the credential scope of the Authorization header, not the signature. */
async function ec2(endpoint: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20250101/${MOTO_REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EC2 ${params.Action} failed: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

async function requestCertificate(endpoint: string): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CertificateManager.RequestCertificate',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20250101/${MOTO_REGION}/acm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ DomainName: 'app.example.com' }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`ACM RequestCertificate failed: ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { CertificateArn: string }).CertificateArn;
}

export async function createNetwork(endpoint: string): Promise<Network> {
  const vpc = await ec2(endpoint, { Action: 'CreateVpc', CidrBlock: '10.0.0.0/16' });
  const vpcId = /<vpcId>([^<]+)<\/vpcId>/.exec(vpc)?.[1];
  if (!vpcId) throw new Error(`CreateVpc: no vpcId in ${vpc.slice(0, 300)}`);
  const subnetIds: string[] = [];
  for (const [i, az] of ['a', 'b'].entries()) {
    const sn = await ec2(endpoint, {
      Action: 'CreateSubnet',
      VpcId: vpcId,
      CidrBlock: `10.0.${i}.0/24`,
      AvailabilityZone: `${MOTO_REGION}${az}`,
    });
    const id = /<subnetId>([^<]+)<\/subnetId>/.exec(sn)?.[1];
    if (!id) throw new Error(`CreateSubnet: no subnetId in ${sn.slice(0, 300)}`);
    subnetIds.push(id);
  }
  return { vpcId, subnetIds, certificateArn: await requestCertificate(endpoint) };
}

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9]/g, '');
const hash10 = (...parts: string[]): string => createHash('sha256').update(parts.join('')).digest('hex').slice(0, 10);

/** `k8s-<ns, 8>-<ingress, 8>-<10 hex>` (implicit group). */
export function lbcLoadBalancerName(namespace: string, ingress: string, scheme = 'internet-facing'): string {
  return `k8s-${sanitize(namespace).slice(0, 8)}-${sanitize(ingress).slice(0, 8)}-${hash10(CLUSTER, `${namespace}/${ingress}`, scheme)}`;
}

/** `k8s-<ns, 8>-<svc, 8>-<10 hex>`. */
export function lbcTargetGroupName(namespace: string, ingress: string, service: string, port: number): string {
  return `k8s-${sanitize(namespace).slice(0, 8)}-${sanitize(service).slice(0, 8)}-${hash10(CLUSTER, `${namespace}/${ingress}`, namespace, ingress, `uid-${service}`, String(port), '8080', 'ip', 'HTTP', 'HTTP1')}`;
}

export interface SeededLoadBalancer {
  arn: string;
  name: string;
  dnsName: string;
  /** What the LBC writes into the Ingress status: lower-cased DNS name, `internal-` for internal LBs. */
  hostname: string;
}

export async function createLoadBalancer(
  elbv2: ElasticLoadBalancingV2Client,
  net: Network,
  opts: { name: string; internal?: boolean; type?: 'application' | 'network'; tags?: Record<string, string> },
): Promise<SeededLoadBalancer> {
  const out = await elbv2.send(
    new CreateLoadBalancerCommand({
      Name: opts.name,
      Subnets: net.subnetIds,
      Scheme: opts.internal ? 'internal' : 'internet-facing',
      Type: opts.type ?? 'application',
      Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  const lb = out.LoadBalancers?.[0];
  if (!lb?.LoadBalancerArn || !lb.DNSName) throw new Error(`CreateLoadBalancer ${opts.name}: empty answer`);
  const dns = lb.DNSName.toLowerCase();
  // moto never prefixes internal LBs' DNS names (lbc-elbv2.md §5.2); real ELBv2 does, and so does the status.
  const hostname = opts.internal && !dns.startsWith('internal-') ? `internal-${dns}` : dns;
  return { arn: lb.LoadBalancerArn, name: opts.name, dnsName: lb.DNSName, hostname };
}

export async function createLbcLoadBalancer(
  elbv2: ElasticLoadBalancingV2Client,
  net: Network,
  namespace: string,
  ingress: string,
  internal = false,
): Promise<SeededLoadBalancer> {
  return createLoadBalancer(elbv2, net, {
    name: lbcLoadBalancerName(namespace, ingress, internal ? 'internal' : 'internet-facing'),
    internal,
    tags: { 'elbv2.k8s.aws/cluster': CLUSTER, 'ingress.k8s.aws/stack': `${namespace}/${ingress}`, [RESOURCE_TAG]: 'LoadBalancer' },
  });
}

export interface SeededTargetGroup {
  arn: string;
  name: string;
  resourceId: string;
}

export async function createLbcTargetGroup(
  elbv2: ElasticLoadBalancingV2Client,
  net: Network,
  opts: { namespace: string; ingress: string; service: string; port: number; targetType?: 'ip' | 'instance'; resourceTagKey?: string; name?: string },
): Promise<SeededTargetGroup> {
  const name = opts.name ?? lbcTargetGroupName(opts.namespace, opts.ingress, opts.service, opts.port);
  const resourceId = `${opts.namespace}/${opts.ingress}-${opts.service}:${opts.port}`;
  const out = await elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: net.vpcId,
      TargetType: opts.targetType ?? 'ip',
      Tags: [
        { Key: 'elbv2.k8s.aws/cluster', Value: CLUSTER },
        { Key: 'ingress.k8s.aws/stack', Value: `${opts.namespace}/${opts.ingress}` },
        { Key: opts.resourceTagKey ?? RESOURCE_TAG, Value: resourceId },
      ],
    }),
  );
  const arn = out.TargetGroups?.[0]?.TargetGroupArn;
  if (!arn) throw new Error(`CreateTargetGroup ${name}: empty answer`);
  return { arn, name, resourceId };
}

export type ListenerKind = 'http' | 'https' | 'http-redirect';

export async function createListener(
  elbv2: ElasticLoadBalancingV2Client,
  lbArn: string,
  kind: ListenerKind,
  certificateArn?: string,
): Promise<string> {
  const fixed404: Action = {
    Type: 'fixed-response',
    FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' },
  };
  const redirect: Action = {
    Type: 'redirect',
    RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
  };
  const out = await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: kind === 'https' ? 'HTTPS' : 'HTTP',
      Port: kind === 'https' ? 443 : 80,
      ...(kind === 'https'
        ? { Certificates: [{ CertificateArn: certificateArn ?? `arn:aws:acm:${MOTO_REGION}:123456789012:certificate/test` }] }
        : {}),
      DefaultActions: [kind === 'http-redirect' ? redirect : fixed404],
    }),
  );
  const arn = out.Listeners?.[0]?.ListenerArn;
  if (!arn) throw new Error('CreateListener: empty answer');
  return arn;
}

export interface Tuple {
  arn: string;
  weight: number;
}

/** The action the LBC builds from a weighted `actions.<svc>` annotation (lbc-elbv2.md §2.1). */
export function forwardAction(tuples: Tuple[], order = 1): Action {
  return {
    Type: 'forward',
    Order: order,
    ForwardConfig: {
      TargetGroups: tuples.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })),
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

export async function createForwardRule(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
  opts: { priority: number; tuples?: Tuple[]; singleTargetGroupArn?: string; path?: string; host?: string; actions?: Action[] },
): Promise<string> {
  const conditions: RuleCondition[] = [{ Field: 'path-pattern', PathPatternConfig: { Values: [opts.path ?? '/*'] } }];
  if (opts.host) conditions.push({ Field: 'host-header', HostHeaderConfig: { Values: [opts.host] } });
  const actions: Action[] =
    opts.actions ??
    (opts.singleTargetGroupArn
      ? [{ Type: 'forward', Order: 1, TargetGroupArn: opts.singleTargetGroupArn }]
      : [forwardAction(opts.tuples ?? [])]);
  const out = await elbv2.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: opts.priority,
      Conditions: conditions,
      Actions: actions,
      Tags: [
        { Key: 'elbv2.k8s.aws/cluster', Value: CLUSTER },
        { Key: RESOURCE_TAG, Value: `${opts.priority}` },
      ],
    }),
  );
  const arn = out.Rules?.[0]?.RuleArn;
  if (!arn) throw new Error('CreateRule: empty answer');
  return arn;
}

/** What the LBC does after Argo patches the annotation: ModifyRule with the new weights. */
export async function setRuleWeights(elbv2: ElasticLoadBalancingV2Client, ruleArn: string, tuples: Tuple[]): Promise<void> {
  await elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [forwardAction(tuples)] }));
}

export async function registerTargets(
  elbv2: ElasticLoadBalancingV2Client,
  tgArn: string,
  targets: Array<{ ip: string; port: number }>,
): Promise<void> {
  await elbv2.send(
    new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: targets.map((t) => ({ Id: t.ip, Port: t.port })) }),
  );
}

export interface SeededIngress {
  lb: SeededLoadBalancer;
  listeners: string[];
  /** Service name → its target group. */
  tgs: Record<string, SeededTargetGroup>;
  /** Rule ARNs carrying the weighted action, one per forwarding listener. */
  rules: string[];
}

/**
 * One Ingress as the LBC deploys it: its own LB, one TG per service, and on every forwarding listener
 * one rule whose weighted forward carries `weights` (service → weight, in the order given).
 */
export async function seedIngress(
  elbv2: ElasticLoadBalancingV2Client,
  net: Network,
  opts: {
    namespace: string;
    ingress: string;
    servicePort: number;
    services: string[];
    weights: Record<string, number>;
    listeners?: ListenerKind[];
    internal?: boolean;
    resourceTagKey?: string;
  },
): Promise<SeededIngress> {
  const lb = await createLbcLoadBalancer(elbv2, net, opts.namespace, opts.ingress, opts.internal);
  const tgs: Record<string, SeededTargetGroup> = {};
  for (const svc of opts.services) {
    tgs[svc] = await createLbcTargetGroup(elbv2, net, {
      namespace: opts.namespace,
      ingress: opts.ingress,
      service: svc,
      port: opts.servicePort,
      ...(opts.resourceTagKey ? { resourceTagKey: opts.resourceTagKey } : {}),
    });
  }
  const listeners: string[] = [];
  const rules: string[] = [];
  for (const kind of opts.listeners ?? ['http']) {
    const listenerArn = await createListener(elbv2, lb.arn, kind, net.certificateArn);
    listeners.push(listenerArn);
    if (kind === 'http-redirect') continue;
    const tuples = Object.entries(opts.weights).map(([svc, weight]) => ({ arn: tgs[svc]!.arn, weight }));
    rules.push(await createForwardRule(elbv2, listenerArn, { priority: 1, tuples }));
  }
  return { lb, listeners, tgs, rules };
}
