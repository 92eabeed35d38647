// deploy/iam-policy-listener-rule.json against the code (issue #20). The router runs every write path it has (weights
// on a rule and on a listener's default action, a header route created, changed and removed, the release) on an
// in-memory load balancer that records each write with the tags its resource had at that moment; each is then
// authorized against the policy the way IAM does it (CreateRule with tags is also AddTags on the new rule, with
// elasticloadbalancing:CreateAction). Every write must be allowed, the policy must name no action the code never
// sends, and the requests the policy exists to refuse (an untagged rule, someone else's rule, AddTags on an existing
// rule) must be denied. The evaluator knows only the condition operators the policy uses; another one fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type Listener,
  type LoadBalancer,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { DRIVEN_TAG_KEY, DRIVEN_TAG_VALUE } from '../../../src/modes/listener-rule/driven-tag.js';
import { DEFAULT_OWNER_TAG_KEY, ROUTE_TAG_KEY } from '../../../src/modes/listener-rule/header-routes.js';
import type { ListenerRuleElbv2 } from '../../../src/modes/listener-rule/locate.js';
import { createListenerRuleRouter } from '../../../src/modes/listener-rule/router.js';
import { rollout } from './fixtures.js';

const root = join(import.meta.dirname, '../../..');

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const policy = JSON.parse(readFileSync(join(root, 'deploy/iam-policy-listener-rule.json'), 'utf8')) as { Statement: Statement[] };
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** One authorization IAM makes: an action on a resource, with the request's context keys. */
interface Request {
  action: string;
  resource: string;
  resourceTags?: Record<string, string>;
  requestTags?: Record<string, string>;
  createAction?: string;
}

/** IAM ARN patterns: `*` matches any run of characters, `/` included; `?` one character. */
function arnMatches(pattern: string, arn: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(arn);
}

function contextValues(r: Request, key: string): string[] | undefined {
  const tag = (prefix: string, tags: Record<string, string> | undefined) =>
    key.startsWith(prefix) && tags && key.slice(prefix.length) in tags ? [tags[key.slice(prefix.length)]!] : undefined;
  if (key.startsWith('aws:ResourceTag/')) return tag('aws:ResourceTag/', r.resourceTags);
  if (key.startsWith('aws:RequestTag/')) return tag('aws:RequestTag/', r.requestTags);
  if (key === 'aws:TagKeys') return r.requestTags ? Object.keys(r.requestTags) : undefined;
  if (key === 'elasticloadbalancing:CreateAction') return r.createAction ? [r.createAction] : undefined;
  throw new Error(`the policy uses the condition key ${key}, which this test does not model`);
}

function conditionHolds(operator: string, key: string, expected: string[], r: Request): boolean {
  const actual = contextValues(r, key);
  switch (operator) {
    case 'StringEquals':
      return actual !== undefined && actual.some((v) => expected.includes(v));
    case 'Null':
      return expected[0] === 'true' ? actual === undefined : actual !== undefined;
    case 'ForAllValues:StringEquals':
      return (actual ?? []).every((v) => expected.includes(v));
    default:
      throw new Error(`the policy uses the condition operator ${operator}, which this test does not model`);
  }
}

function allows(s: Statement, r: Request): boolean {
  if (!list(s.Action).includes(`elasticloadbalancing:${r.action}`)) return false;
  if (!list(s.Resource).some((p) => arnMatches(p, r.resource))) return false;
  return Object.entries(s.Condition ?? {}).every(([op, keys]) => Object.entries(keys).every(([k, v]) => conditionHolds(op, k, list(v), r)));
}

/** No explicit Deny in the policy (checked below), so allowed means some Allow statement matches. */
const allowed = (r: Request): boolean => policy.Statement.some((s) => s.Effect === 'Allow' && allows(s, r));

const LB = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/tf-shop/50dc6c495c0c9188';
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/tf-shop/50dc6c495c0c9188/f2f7dc8efc522ab2';
const DRIVEN = `${LISTENER.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`;
const FOREIGN = `${LISTENER.replace(':listener/', ':listener-rule/')}/1a2b3c4d5e6f7a8b`;
const STABLE = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tf-blue/6d0ecf831eec9f09';
const CANARY = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tf-green/0d2b5a1f1ad3e4c7';
const managed = { [DRIVEN_TAG_KEY]: DRIVEN_TAG_VALUE };

/** An ALB with one listener (default action forwarding to stable), the driven rule and a foreign rule; writes are applied and recorded. */
function recordingAlb() {
  const forward: Action[] = [{ Type: 'forward', TargetGroupArn: STABLE }];
  const rules: Rule[] = [
    { RuleArn: `${LISTENER}/default`, IsDefault: true, Priority: 'default', Conditions: [], Actions: forward },
    { RuleArn: DRIVEN, IsDefault: false, Priority: '10', Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }], Actions: forward },
    { RuleArn: FOREIGN, IsDefault: false, Priority: '20', Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/x'] } }], Actions: forward },
  ];
  const tags = new Map<string, Record<string, string>>([[DRIVEN, managed], [LISTENER, managed], [FOREIGN, {}]]);
  const requests: Request[] = [];
  let seq = 0;
  const rule = (arn: string | undefined) => rules.find((r) => r.RuleArn === arn);
  const elbv2: ListenerRuleElbv2 = {
    describeLoadBalancersByName: async () => [{ LoadBalancerArn: LB } as LoadBalancer],
    describeListeners: async () => [{ ListenerArn: LISTENER, Port: 80 } as Listener],
    describeRules: async (selector) => ('listenerArn' in selector ? rules : rules.filter((r) => selector.ruleArns.includes(r.RuleArn!))),
    describeTags: async (arns) => new Map(arns.map((a) => [a, tags.get(a) ?? {}])),
    async send(command) {
      if (command instanceof ModifyRuleCommand) {
        const arn = command.input.RuleArn!;
        requests.push({ action: 'ModifyRule', resource: arn, resourceTags: { ...tags.get(arn) } });
        Object.assign(rule(arn)!, { ...(command.input.Actions ? { Actions: command.input.Actions } : {}), ...(command.input.Conditions ? { Conditions: command.input.Conditions } : {}) });
      } else if (command instanceof ModifyListenerCommand) {
        requests.push({ action: 'ModifyListener', resource: command.input.ListenerArn!, resourceTags: { ...tags.get(command.input.ListenerArn!) } });
        rules[0]!.Actions = command.input.DefaultActions!;
      } else if (command instanceof CreateRuleCommand) {
        const arn = `${LISTENER.replace(':listener/', ':listener-rule/')}/${(++seq).toString(16).padStart(16, '0')}`;
        const requestTags = Object.fromEntries((command.input.Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
        // CreateRule is authorized on the listener and on the rule it makes; the tags given to it are an AddTags
        // on the new rule (docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html).
        requests.push({ action: 'CreateRule', resource: command.input.ListenerArn!, requestTags });
        requests.push({ action: 'CreateRule', resource: arn, requestTags });
        if (command.input.Tags?.length) requests.push({ action: 'AddTags', resource: arn, requestTags, createAction: 'CreateRule' });
        rules.push({ RuleArn: arn, IsDefault: false, Priority: String(command.input.Priority), Conditions: command.input.Conditions!, Actions: command.input.Actions! });
        tags.set(arn, requestTags);
        return { Rules: [{ RuleArn: arn }] };
      } else if (command instanceof DeleteRuleCommand) {
        const arn = command.input.RuleArn!;
        requests.push({ action: 'DeleteRule', resource: arn, resourceTags: { ...tags.get(arn) } });
        rules.splice(rules.indexOf(rule(arn)!), 1);
        tags.delete(arn);
      } else {
        throw new Error('a write this test does not know: teach it and the policy');
      }
      return {};
    },
  };
  return { elbv2, requests };
}

describe('deploy/iam-policy-listener-rule.json', () => {
  it('names exactly the write commands src/modes/listener-rule sends (plus AddTags, which ELBv2 checks for tags given to CreateRule), Allow only', () => {
    const granted = new Set(policy.Statement.flatMap((s) => list(s.Action)));
    const dir = join(root, 'src/modes/listener-rule');
    const sent = new Set<string>(['elasticloadbalancing:AddTags']);
    for (const file of readdirSync(dir)) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/new (\w+)Command\(/g)) sent.add(`elasticloadbalancing:${m[1]}`);
    }
    expect([...granted].sort()).toEqual([...sent].sort());
    expect([...sent].sort()).toEqual([
      'elasticloadbalancing:AddTags',
      'elasticloadbalancing:CreateRule',
      'elasticloadbalancing:DeleteRule',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
    ]);
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    // Every statement is conditioned on a tag: nothing the account's other rules could be changed through.
    expect(policy.Statement.every((s) => Object.keys(s.Condition ?? {}).length > 0)).toBe(true);
  });

  it('allows every write the router makes, with the tags the resource has at that moment, and each action is used', async () => {
    const { elbv2, requests } = recordingAlb();
    const router = createListenerRuleRouter({ elbv2, getTargetGroupBinding: async () => undefined, listTargetGroupBindings: async () => [], pluginName: 'argoproj-labs/alb' });
    const tgs = { stableTargetGroup: { arn: STABLE }, canaryTargetGroup: { arn: CANARY } };
    const onRule = rollout({ block: { listenerRule: { ruleArn: DRIVEN }, ...tgs }, managedRoutes: ['beta'] });
    const onDefault = rollout({ name: 'shop-web', block: { listenerRule: { loadBalancerName: 'tf-shop', listenerPort: 80, defaultAction: true }, ...tgs } });

    await router.setWeight(onRule, 20, []);
    await router.setHeaderRoute(onRule, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] });
    await router.setHeaderRoute(onRule, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes please' } }] });
    await router.setHeaderRoute(onRule, { name: 'beta' });
    await router.setHeaderRoute(onRule, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'again' } }] });
    await router.removeManagedRoutes(onRule);
    await router.setHeaderRoute(onRule, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'late' } }] });
    await router.release(onRule);
    await router.setWeight(onDefault, 30, []);

    expect(requests.filter((r) => !allowed(r))).toEqual([]);
    expect(new Set(requests.map((r) => r.action))).toEqual(new Set(['ModifyRule', 'ModifyListener', 'CreateRule', 'AddTags', 'DeleteRule']));
    // The header-route rule's change is a ModifyRule on a rule carrying the owner tag, not the opt-in tag.
    expect(requests.filter((r) => r.action === 'ModifyRule' && r.resource !== DRIVEN).map((r) => Object.keys(r.resourceTags!).sort())).toEqual([
      [DEFAULT_OWNER_TAG_KEY, ROUTE_TAG_KEY].sort(),
    ]);
  });

  const rule = (tags: Record<string, string>) => ({ resource: FOREIGN, resourceTags: tags });
  const denied: Array<[string, Request]> = [
    ['ModifyRule on an untagged rule', { action: 'ModifyRule', ...rule({}) }],
    ['ModifyRule on a rule whose opt-in tag has another value', { action: 'ModifyRule', ...rule({ [DRIVEN_TAG_KEY]: 'no' }) }],
    ['ModifyListener on an untagged listener', { action: 'ModifyListener', resource: LISTENER, resourceTags: {} }],
    ['ModifyRule on a tagged rule of a Network Load Balancer (the plugin drives ALBs only)', { action: 'ModifyRule', resource: DRIVEN.replace('/app/', '/net/'), resourceTags: managed }],
    ['DeleteRule on the driven rule', { action: 'DeleteRule', resource: DRIVEN, resourceTags: managed }],
    ['DeleteRule on an untagged rule', { action: 'DeleteRule', ...rule({}) }],
    ['CreateRule without the owner tag', { action: 'CreateRule', resource: LISTENER, requestTags: { [ROUTE_TAG_KEY]: 'beta' } }],
    ['CreateRule tagging the new rule with the opt-in tag too', { action: 'CreateRule', resource: LISTENER, requestTags: { [DEFAULT_OWNER_TAG_KEY]: 'shop/a', ...managed } }],
    ['AddTags on an existing rule (the owner tag would make it deletable)', { action: 'AddTags', resource: FOREIGN, requestTags: { [DEFAULT_OWNER_TAG_KEY]: 'shop/a' } }],
    ['AddTags of the opt-in tag on an existing rule', { action: 'AddTags', resource: FOREIGN, requestTags: managed }],
    ['SetRulePriorities (the plugin never reorders rules)', { action: 'SetRulePriorities', resource: DRIVEN, resourceTags: managed }],
    ['RemoveTags', { action: 'RemoveTags', resource: DRIVEN, resourceTags: managed }],
  ];

  it.each(denied)('denies %s', (_label, request) => {
    expect(allowed(request)).toBe(false);
  });
});
