// A load balancer built the way Terraform or the console would build it (no LBC tags): target groups
// for the Services, an HTTP:80 listener with a driven rule, a neighbouring rule and a rule behind an
// OIDC authenticate action, and an HTTP:8080 listener whose default action forwards to stable. The rules and the
// listener a Rollout may drive carry the opt-in tag (src/modes/listener-rule/driven-tag.ts), as an operator tags
// them; the neighbouring rule does not.
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createLoadBalancer, createNetwork } from '../../support/lbc-seed.js';
import { Elbv2Discovery } from '../../../src/aws/discovery.js';
import type { Elbv2 } from '../../../src/aws/elbv2.js';
import type { TargetGroupBinding, BindingReader } from '../../../src/modes/listener-rule/bindings.js';
import type { ListenerRuleElbv2 } from '../../../src/modes/listener-rule/locate.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { DRIVEN_TAG_KEY, DRIVEN_TAG_VALUE } from '../../../src/modes/listener-rule/driven-tag.js';

/** The tag that lets the plugin drive a rule or a listener's default action, as `Tags` of a Create call. */
export const DRIVEN_TAGS = [{ Key: DRIVEN_TAG_KEY, Value: DRIVEN_TAG_VALUE }];

export const NS = 'shop';
export const PLUGIN = 'argoproj-labs/alb';
export const LB_NAME = 'shared-alb';
export const HOST = 'app.example.com';
export const PATH = '/api/*';

export const SERVICES = ['app-stable', 'app-canary', 'app-ping', 'app-pong', 'app-exp', 'other'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface Fixture {
  lbArn: string;
  tg: Record<ServiceName, string>;
  httpListener: string;
  defaultListener: string;
  drivenRule: string;
  neighbourRule: string;
  authRule: string;
  authAction: Action;
  /** TargetGroupBindings `<service>-tgb` for every Service. */
  bindings: Map<string, TargetGroupBinding>;
}

export async function seed(endpoint: string, elbv2: ElasticLoadBalancingV2Client): Promise<Fixture> {
  const net = await createNetwork(endpoint);
  const lb = await createLoadBalancer(elbv2, net, { name: LB_NAME });
  const tg = {} as Record<ServiceName, string>;
  for (const svc of SERVICES) {
    const out = await elbv2.send(
      new CreateTargetGroupCommand({ Name: `tf-${svc}`, Protocol: 'HTTP', Port: 8080, VpcId: net.vpcId, TargetType: 'ip' }),
    );
    tg[svc] = out.TargetGroups![0]!.TargetGroupArn!;
  }
  const fixed404: Action = { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } };
  const http = await elbv2.send(
    new CreateListenerCommand({ LoadBalancerArn: lb.arn, Protocol: 'HTTP', Port: 80, DefaultActions: [fixed404] }),
  );
  const httpListener = http.Listeners![0]!.ListenerArn!;
  const dflt = await elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.arn,
      Protocol: 'HTTP',
      Port: 8080,
      DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg['app-stable'], Weight: 1 }] } }],
      Tags: DRIVEN_TAGS,
    }),
  );
  const defaultListener = dflt.Listeners![0]!.ListenerArn!;

  const rule = async (priority: number, host: string, path: string | undefined, actions: Action[], driven = true): Promise<string> => {
    const conditions: RuleCondition[] = [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }];
    if (path) conditions.push({ Field: 'path-pattern', PathPatternConfig: { Values: [path] } });
    const out = await elbv2.send(
      new CreateRuleCommand({ ListenerArn: httpListener, Priority: priority, Conditions: conditions, Actions: actions, ...(driven ? { Tags: DRIVEN_TAGS } : {}) }),
    );
    return out.Rules![0]!.RuleArn!;
  };
  // Terraform's single-target forward: only TargetGroupArn, the form real ELBv2 also reports.
  const drivenRule = await rule(10, HOST, PATH, [{ Type: 'forward', TargetGroupArn: tg['app-stable'] }]);
  const neighbourRule = await rule(20, 'other.example.com', undefined, [{ Type: 'forward', TargetGroupArn: tg.other }], false);
  const authAction: Action = {
    Type: 'authenticate-oidc',
    Order: 1,
    AuthenticateOidcConfig: {
      Issuer: 'https://idp.example.com',
      AuthorizationEndpoint: 'https://idp.example.com/authorize',
      TokenEndpoint: 'https://idp.example.com/token',
      UserInfoEndpoint: 'https://idp.example.com/userinfo',
      ClientId: 'shop',
      ClientSecret: 'not-a-secret',
      OnUnauthenticatedRequest: 'authenticate',
    },
  };
  const authRule = await rule(30, 'admin.example.com', undefined, [
    authAction,
    { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg['app-stable'], Weight: 1 }] } },
  ]);

  const bindings = new Map<string, TargetGroupBinding>();
  for (const svc of SERVICES) {
    bindings.set(`${svc}-tgb`, { name: `${svc}-tgb`, namespace: NS, targetGroupArn: tg[svc], serviceName: svc });
  }
  return { lbArn: lb.arn, tg, httpListener, defaultListener, drivenRule, neighbourRule, authRule, authAction, bindings };
}

/**
 * The client with the driven rule's tags kept as the sidecar keeps them (the shared discovery: read at the first
 * write, then known), and nothing else shared, so the tests count listing reads as before.
 */
export function keepingTags(elbv2: Elbv2): ListenerRuleElbv2 {
  const discovery = new Elbv2Discovery(elbv2);
  return { ...elbv2, keptTags: (arns, o) => discovery.tags(arns, o?.signal ? { signal: o.signal } : {}), forgetTags: (arns) => discovery.forgetTags(arns) };
}

/** The injected Kubernetes reads, backed by a map (the client-node adapter has its own nock tests). */
export function bindingReader(bindings: Map<string, TargetGroupBinding>): BindingReader {
  return {
    async getTargetGroupBinding(namespace, name) {
      const b = bindings.get(name);
      return b && b.namespace === namespace ? b : undefined;
    },
    async listTargetGroupBindings(namespace) {
      return [...bindings.values()].filter((b) => b.namespace === namespace);
    },
  };
}

export interface RolloutOptions {
  block: Record<string, unknown>;
  pingPong?: boolean;
  stablePingPong?: 'ping' | 'pong';
  managedRoutes?: string[];
  name?: string;
}

export function rollout(o: RolloutOptions): Rollout {
  const canary = o.pingPong
    ? { pingPong: { pingService: 'app-ping', pongService: 'app-pong' } }
    : { stableService: 'app-stable', canaryService: 'app-canary' };
  return {
    metadata: { name: o.name ?? 'shop-api', namespace: NS },
    spec: {
      strategy: {
        canary: {
          ...canary,
          trafficRouting: {
            plugins: { [PLUGIN]: o.block },
            ...(o.managedRoutes ? { managedRoutes: o.managedRoutes.map((name) => ({ name })) } : {}),
          },
        },
      },
    },
    status: o.stablePingPong ? { canary: { stablePingPong: o.stablePingPong } } : {},
  };
}

export async function ruleByArn(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<Rule> {
  const out = await elbv2.send(new DescribeRulesCommand({ RuleArns: [arn] }));
  return out.Rules![0]!;
}

export async function listenerRules(elbv2: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const out = await elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }));
  return out.Rules ?? [];
}

export async function defaultActions(elbv2: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Action[]> {
  const out = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
  return out.Listeners![0]!.DefaultActions ?? [];
}

export async function tagsOf(elbv2: ElasticLoadBalancingV2Client, arn: string): Promise<Record<string, string>> {
  const out = await elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return Object.fromEntries((out.TagDescriptions?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

/** Weight per target group of the forward action, as ELBv2 reports it. */
export function weightsOf(actions: Action[]): Record<string, number> {
  const forward = actions.find((a) => a.Type === 'forward');
  if (!forward) return {};
  if (forward.ForwardConfig?.TargetGroups?.length) {
    return Object.fromEntries(forward.ForwardConfig.TargetGroups.map((t) => [t.TargetGroupArn!, t.Weight ?? 1]));
  }
  return forward.TargetGroupArn ? { [forward.TargetGroupArn]: 1 } : {};
}
