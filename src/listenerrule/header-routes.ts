// Header routes in listener-rule mode: one extra rule per route, right in front of the driven rule,
// tagged with the owning Rollout and the route name. Only rules carrying our owner tag are ever
// modified or deleted.

import {
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  type Action,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SetHeaderRoute } from '../trafficrouter/rollout.js';
import type { StickinessConfig } from '../trafficrouter/types.js';
import {
  headerRouteActions,
  headerRouteConditions,
  headerRoutePriority,
  rulePriority,
  type PriorityCandidate,
} from './forward.js';
import type { ListenerRuleElbv2, RuleLocation } from './locate.js';

/** Default tag key marking a rule as created by this plugin for one Rollout (`<namespace>/<name>`). */
export const DEFAULT_OWNER_TAG_KEY = 'rollouts.argoproj.io/rollout';
/** The header route (managedRoutes name) a rule implements. */
export const ROUTE_TAG_KEY = 'rollouts.argoproj.io/header-route';

export interface Owner {
  tagKey: string;
  /** `<namespace>/<rollout name>` */
  value: string;
}

export interface ManagedRule {
  rule: Rule;
  route: string;
}

interface ListenerView {
  rules: Rule[];
  ours: ManagedRule[];
}

/** Every rule of the listener, plus the ones this Rollout owns (DescribeRules, then DescribeTags per 20). */
async function viewListener(elbv2: ListenerRuleElbv2, listenerArn: string, owner: Owner): Promise<ListenerView> {
  const rules = await elbv2.describeRules({ listenerArn });
  const arns = rules.filter((r) => !r.IsDefault && r.RuleArn).map((r) => r.RuleArn!);
  const tags = arns.length ? await elbv2.describeTags(arns) : new Map<string, Record<string, string>>();
  const ours: ManagedRule[] = [];
  for (const rule of rules) {
    const t = rule.RuleArn ? tags.get(rule.RuleArn) : undefined;
    if (t && t[owner.tagKey] === owner.value) ours.push({ rule, route: t[ROUTE_TAG_KEY] ?? '' });
  }
  return { rules, ours };
}

export interface HeaderRouteInput {
  location: RuleLocation;
  driven: Rule;
  canaryArn: string;
  stickiness?: StickinessConfig;
  owner: Owner;
}

/** Creates, updates or (empty match) deletes the rule of one header route. */
export async function applyHeaderRoute(elbv2: ListenerRuleElbv2, route: SetHeaderRoute, input: HeaderRouteInput): Promise<void> {
  const view = await viewListener(elbv2, input.location.listenerArn, input.owner);
  const existing = view.ours.filter((m) => m.route === route.name);
  if (!route.match || route.match.length === 0) {
    for (const m of existing) await elbv2.send(new DeleteRuleCommand({ RuleArn: m.rule.RuleArn! }));
    return;
  }
  const conditions = headerRouteConditions(route.match, input.driven.Conditions ?? []);
  const actions = headerRouteActions(input.driven.Actions ?? [], input.canaryArn, input.stickiness);
  const [keep, ...extra] = existing;
  // A route has one rule; stray duplicates (e.g. from an interrupted call) are ours to remove.
  for (const m of extra) await elbv2.send(new DeleteRuleCommand({ RuleArn: m.rule.RuleArn! }));
  if (keep) {
    if (sameConditions(keep.rule.Conditions ?? [], conditions) && sameActions(keep.rule.Actions ?? [], actions)) return;
    await elbv2.send(new ModifyRuleCommand({ RuleArn: keep.rule.RuleArn!, Conditions: conditions, Actions: actions }));
    return;
  }
  const ourArns = new Set(view.ours.map((m) => m.rule.RuleArn));
  const candidates: PriorityCandidate[] = [];
  for (const r of view.rules) {
    const p = rulePriority(r);
    if (p !== undefined) candidates.push({ priority: p, ruleArn: r.RuleArn ?? '', ours: ourArns.has(r.RuleArn) });
  }
  const priority = headerRoutePriority(rulePriority(input.driven), candidates);
  const create = new CreateRuleCommand({
    ListenerArn: input.location.listenerArn,
    Priority: priority,
    Conditions: conditions,
    Actions: actions,
    Tags: [
      { Key: input.owner.tagKey, Value: input.owner.value },
      { Key: ROUTE_TAG_KEY, Value: route.name },
    ],
  });
  if (input.driven.Transforms?.length) create.input.Transforms = input.driven.Transforms;
  try {
    await elbv2.send(create);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `creating the rule for header route "${route.name}" at priority ${priority} on listener ${input.location.listenerArn} failed: ${message}`,
      { cause: err },
    );
  }
}

/** Deletes every rule on the listener that carries this Rollout's owner tag; returns how many. */
export async function removeOwnedRules(elbv2: ListenerRuleElbv2, listenerArn: string, owner: Owner): Promise<number> {
  const view = await viewListener(elbv2, listenerArn, owner);
  for (const m of view.ours) await elbv2.send(new DeleteRuleCommand({ RuleArn: m.rule.RuleArn! }));
  return view.ours.length;
}

function conditionKey(c: RuleCondition): string {
  const values =
    c.HostHeaderConfig?.Values ?? c.PathPatternConfig?.Values ?? c.HttpHeaderConfig?.Values ?? c.HttpRequestMethodConfig?.Values ??
    c.SourceIpConfig?.Values ?? c.QueryStringConfig?.Values?.map((kv) => `${kv.Key ?? ''}=${kv.Value ?? ''}`) ?? c.Values ?? [];
  return JSON.stringify([c.Field, c.HttpHeaderConfig?.HttpHeaderName ?? '', [...values].sort()]);
}

function sameConditions(a: RuleCondition[], b: RuleCondition[]): boolean {
  const ka = a.map(conditionKey).sort();
  const kb = b.map(conditionKey).sort();
  return JSON.stringify(ka) === JSON.stringify(kb);
}

function actionKey(a: Action): string {
  if (a.Type !== 'forward') return JSON.stringify([a.Type, a.Order ?? null]);
  const tgs = a.ForwardConfig?.TargetGroups?.map((t) => `${t.TargetGroupArn}=${t.Weight ?? 1}`) ??
    (a.TargetGroupArn ? [`${a.TargetGroupArn}=1`] : []);
  const s = a.ForwardConfig?.TargetGroupStickinessConfig;
  return JSON.stringify([a.Type, a.Order ?? null, tgs.sort(), s?.Enabled ? s.DurationSeconds : 0]);
}

function sameActions(a: Action[], b: Action[]): boolean {
  return JSON.stringify(a.map(actionKey)) === JSON.stringify(b.map(actionKey));
}
