// Header routes in listener-rule mode: one extra rule per route, right in front of the driven rule,
// tagged with the owning Rollout and the route name. Only rules carrying our owner tag are ever
// modified or deleted. Which rules a Rollout owns is always read from the load balancer (the tags), never
// remembered: another sidecar (a new leader) may have created or deleted them since.

import {
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  type Action,
  type CreateRuleCommandOutput,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { HeaderMatch } from '../../core/routes.js';
import type { StickinessConfig } from '../../core/stickiness.js';
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

/**
 * Tags of listener rules by ARN. A rule's tags are set when it is created (CreateRule with Tags; the IAM
 * policy allows AddTags only then) and an ARN is never reused, so a rule's tags are read once; which rules
 * exist is read on every listing. Bounded: the least recently used entries go first.
 */
export class RuleTagCache {
  private readonly tags = new Map<string, Record<string, string>>();
  constructor(private readonly max = 5000) {}

  /** Tags of every rule in `arns`, reading (DescribeTags, per 20) only those not seen before. */
  async read(elbv2: ListenerRuleElbv2, arns: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    const missing: string[] = [];
    for (const arn of arns) {
      const t = this.tags.get(arn);
      if (t === undefined) missing.push(arn);
      else {
        out.set(arn, t);
        this.remember(arn, t);
      }
    }
    if (missing.length > 0) {
      const read = await elbv2.describeTags(missing);
      for (const arn of missing) {
        // A rule deleted between the two calls has no tag description; it is not cached.
        const t = read.get(arn);
        if (!t) continue;
        out.set(arn, t);
        this.remember(arn, t);
      }
    }
    return out;
  }

  remember(arn: string, tags: Record<string, string>): void {
    this.tags.delete(arn);
    this.tags.set(arn, tags);
    while (this.tags.size > this.max) this.tags.delete(this.tags.keys().next().value as string);
  }

  forget(arn: string): void {
    this.tags.delete(arn);
  }
}

/** Whose header-route rules these are: the owner tag on them. */
export interface Owner {
  tagKey: string;
  /** `<namespace>/<rollout name>` */
  value: string;
}

/** A header-route rule of the Rollout, with the route it implements. */
export interface ManagedRule {
  rule: Rule;
  route: string;
}

interface ListenerView {
  rules: Rule[];
  ours: ManagedRule[];
}

/**
 * Every rule of the listener, plus the ones this Rollout owns: DescribeRules, then DescribeTags per 20 for
 * rules whose tags `cache` has not seen yet (all of them without a cache).
 */
async function viewListener(elbv2: ListenerRuleElbv2, listenerArn: string, owner: Owner, cache?: RuleTagCache): Promise<ListenerView> {
  const rules = await elbv2.describeRules({ listenerArn });
  const arns = rules.filter((r) => !r.IsDefault && r.RuleArn).map((r) => r.RuleArn!);
  const tags =
    arns.length === 0 ? new Map<string, Record<string, string>>() : cache ? await cache.read(elbv2, arns) : await elbv2.describeTags(arns);
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
  /** Tags already read (RuleTagCache); without it every listing reads every rule's tags. */
  tagCache?: RuleTagCache;
}

async function deleteRule(elbv2: ListenerRuleElbv2, ruleArn: string, cache: RuleTagCache | undefined): Promise<void> {
  await elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
  cache?.forget(ruleArn);
}

/** A header route to apply: its conditions (src/core/routes.ts), none meaning the route is removed. */
export interface HeaderRoute {
  name: string;
  matches: HeaderMatch[];
}

/** Creates, updates or (no matches) deletes the rule of one header route. */
export async function applyHeaderRoute(elbv2: ListenerRuleElbv2, route: HeaderRoute, input: HeaderRouteInput): Promise<void> {
  const cache = input.tagCache;
  const view = await viewListener(elbv2, input.location.listenerArn, input.owner, cache);
  const existing = view.ours.filter((m) => m.route === route.name);
  if (route.matches.length === 0) {
    for (const m of existing) await deleteRule(elbv2, m.rule.RuleArn!, cache);
    return;
  }
  const conditions = headerRouteConditions(route.matches, input.driven.Conditions ?? []);
  const actions = headerRouteActions(input.driven.Actions ?? [], input.canaryArn, input.stickiness);
  const [keep, ...extra] = existing;
  // A route has one rule; stray duplicates (e.g. from an interrupted call) are ours to remove.
  for (const m of extra) await deleteRule(elbv2, m.rule.RuleArn!, cache);
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
  const tags = { [input.owner.tagKey]: input.owner.value, [ROUTE_TAG_KEY]: route.name };
  const create = new CreateRuleCommand({
    ListenerArn: input.location.listenerArn,
    Priority: priority,
    Conditions: conditions,
    Actions: actions,
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  });
  if (input.driven.Transforms?.length) create.input.Transforms = input.driven.Transforms;
  try {
    const out = (await elbv2.send(create)) as CreateRuleCommandOutput | undefined;
    const arn = out?.Rules?.[0]?.RuleArn;
    if (arn) cache?.remember(arn, tags);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `creating the rule for header route "${route.name}" at priority ${priority} on listener ${input.location.listenerArn} failed: ${message}`,
      { cause: err },
    );
  }
}

/**
 * Deletes every rule on the listener that carries this Rollout's owner tag; returns how many. The listing is
 * read each time (one DescribeRules; DescribeTags only for rules `cache` has not seen), so any sidecar, a
 * fresh one included, reaches the same answer for the same load balancer.
 */
export async function removeOwnedRules(elbv2: ListenerRuleElbv2, listenerArn: string, owner: Owner, cache?: RuleTagCache): Promise<number> {
  const view = await viewListener(elbv2, listenerArn, owner, cache);
  for (const m of view.ours) await deleteRule(elbv2, m.rule.RuleArn!, cache);
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
