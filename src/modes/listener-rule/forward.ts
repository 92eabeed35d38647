// Listener-rule mode's writer, pure: the Rollout's desired weights and header matches (src/core, validated
// there) as the forward a rule should carry, how it compares with what DescribeRules returned, the
// rewritten action list (every non-forward action kept in place), and the conditions and priority of a
// header-route rule. No I/O here.

import type { Action, Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { MAX_RULE_PRIORITY, SOLE_WEIGHT } from '../../core/limits.js';
import type { WeightDestination } from '../../core/rollout.js';
import { albHeaderValue, type HeaderMatch } from '../../core/routes.js';
import type { StickinessConfig } from '../../core/stickiness.js';
import { desiredWeights, type DesiredWeight } from '../../core/weights.js';
import type { ListenerRuleConfig } from './config.js';

export interface WeightedTargetGroup {
  arn: string;
  weight: number;
}

export interface DesiredForward {
  /** Canary first, then experiments in the order given, then stable (the Ingress-mode order). */
  targetGroups: WeightedTargetGroup[];
  /** Only when configured; otherwise the rule's own stickiness is kept. */
  stickiness?: StickinessConfig;
}

/** The desired weights of one step (src/core/weights.ts): validated before any target group is looked up. */
export function stepWeights(config: ListenerRuleConfig, desiredWeight: number, additional: WeightDestination[]): DesiredWeight[] {
  return desiredWeights({
    services: { stable: config.stable.service ?? '', canary: config.canary.service ?? '' },
    desiredWeight,
    additionalDestinations: additional,
    maxWeight: config.maxWeight,
  });
}

/** The target groups the weights go to: the roles' and, in order, each experiment Service's. */
export interface ResolvedTargetGroups {
  canary: string;
  stable: string;
  experiments: string[];
}

/** The weights on their target groups, in the same order (canary, experiments, stable). */
export function desiredForward(weights: DesiredWeight[], arns: ResolvedTargetGroups, stickiness?: StickinessConfig): DesiredForward {
  let experiment = 0;
  const targetGroups = weights.map((w) => ({
    arn: w.role === 'canary' ? arns.canary : w.role === 'stable' ? arns.stable : arns.experiments[experiment++]!,
    weight: w.weight,
  }));
  const seen = new Set<string>();
  for (const tg of targetGroups) {
    if (seen.has(tg.arn)) {
      throw new Error(`target group ${tg.arn} appears twice in the forward action; every Service needs its own target group`);
    }
    seen.add(tg.arn);
  }
  const desired: DesiredForward = { targetGroups };
  if (stickiness) desired.stickiness = stickiness;
  return desired;
}

export interface CurrentForward {
  /** Index of the forward action in the rule's action list. */
  index: number;
  /** Weight per target group ARN as the rule has it now. */
  weights: Map<string, number>;
  stickiness?: { enabled: boolean; durationSeconds?: number };
}

/**
 * The forward action of a rule, read both ways ELBv2 writes it: `ForwardConfig` first, else a lone
 * `TargetGroupArn` (= everything to that target group). Undefined when the rule does not forward.
 */
export function currentForward(actions: Action[]): CurrentForward | undefined {
  const index = actions.findIndex((a) => a.Type === 'forward');
  if (index < 0) return undefined;
  const action = actions[index]!;
  const weights = new Map<string, number>();
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length > 0) {
    for (const t of tuples) if (t.TargetGroupArn) weights.set(t.TargetGroupArn, t.Weight ?? 1);
  } else if (action.TargetGroupArn) {
    weights.set(action.TargetGroupArn, 1);
  }
  const current: CurrentForward = { index, weights };
  const s = action.ForwardConfig?.TargetGroupStickinessConfig;
  if (s) {
    current.stickiness = { enabled: s.Enabled ?? false };
    if (s.DurationSeconds !== undefined) current.stickiness.durationSeconds = s.DurationSeconds;
  }
  return current;
}

/**
 * Why the current forward differs from the desired one, in words (empty = same meaning). ELBv2 splits
 * traffic by weight / sum of weights, so a lone target group at any weight equals 100 % on it; weights
 * are compared as written otherwise, since that is what the next reader sees.
 */
export function forwardDifferences(current: CurrentForward, desired: DesiredForward): string[] {
  const reasons: string[] = [];
  const want = new Map(desired.targetGroups.map((t) => [t.arn, t.weight]));
  const loneWant = desired.targetGroups.filter((t) => t.weight > 0);
  const loneHave = [...current.weights].filter(([, w]) => w > 0);
  const bothLone =
    loneWant.length === 1 && loneHave.length === 1 && current.weights.size === want.size && loneHave[0]![0] === loneWant[0]!.arn;
  for (const [arn, weight] of want) {
    const have = current.weights.get(arn);
    if (have === undefined) reasons.push(`${arn} is not in the forward action (want weight ${weight})`);
    else if (have !== weight && !(bothLone && weight > 0)) reasons.push(`${arn} has weight ${have}, want ${weight}`);
  }
  for (const [arn, weight] of current.weights) {
    if (!want.has(arn)) reasons.push(`${arn} has weight ${weight} but should not be in the forward action`);
  }
  const s = desired.stickiness;
  if (s) {
    const have = current.stickiness ?? { enabled: false };
    if (have.enabled !== s.enabled) reasons.push(`stickiness is ${have.enabled ? 'on' : 'off'}, want ${s.enabled ? 'on' : 'off'}`);
    else if (s.enabled && have.durationSeconds !== s.durationSeconds) {
      reasons.push(`stickiness lasts ${have.durationSeconds ?? 'unset'} s, want ${s.durationSeconds} s`);
    }
  }
  return reasons;
}

/**
 * The rule's action list with only the forward replaced. Every other action (authenticate-oidc,
 * authenticate-cognito, jwt-validation) is sent back as read, in its `Order`. DescribeRules leaves out an
 * OIDC client secret, so such an action asks ELBv2 to keep the secret it already has.
 */
export function withForward(actions: Action[], current: CurrentForward, desired: DesiredForward): Action[] {
  return actions.map((action, i) => {
    if (i !== current.index) return writableAction(action);
    const forward: Action = {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: desired.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })),
      },
    };
    if (action.Order !== undefined) forward.Order = action.Order;
    const stickiness = desired.stickiness
      ? desired.stickiness.enabled
        ? { Enabled: true, DurationSeconds: desired.stickiness.durationSeconds }
        : { Enabled: false }
      : action.ForwardConfig?.TargetGroupStickinessConfig;
    if (stickiness) forward.ForwardConfig!.TargetGroupStickinessConfig = stickiness;
    return forward;
  });
}

/** An action as read, made acceptable to ModifyRule / ModifyListener. */
export function writableAction(action: Action): Action {
  if (action.Type === 'authenticate-oidc' && action.AuthenticateOidcConfig && !action.AuthenticateOidcConfig.ClientSecret) {
    return { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } };
  }
  return action;
}

/**
 * Actions for a header-route rule: the driven rule's actions with the forward sending everything to the
 * canary. Authentication in front of the forward is copied so the header cannot be used to skip it; an
 * OIDC action whose secret ELBv2 did not return cannot be copied (a new rule has no secret to keep).
 */
export function headerRouteActions(driven: Action[], canaryArn: string, stickiness?: StickinessConfig): Action[] {
  const current = currentForward(driven);
  if (!current) throw new Error('the driven rule has no forward action');
  return driven.map((action, i) => {
    if (i === current.index) {
      const forward: Action = { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: canaryArn, Weight: SOLE_WEIGHT }] } };
      if (action.Order !== undefined) forward.Order = action.Order;
      if (stickiness?.enabled) {
        forward.ForwardConfig!.TargetGroupStickinessConfig = { Enabled: true, DurationSeconds: stickiness.durationSeconds };
      }
      return forward;
    }
    if (action.Type === 'authenticate-oidc' && !action.AuthenticateOidcConfig?.ClientSecret) {
      throw new Error(
        'the driven rule authenticates with authenticate-oidc and ELBv2 does not return its client secret, so a header-route ' +
          'rule cannot copy the authentication (and must not skip it); use authenticate-cognito or jwt-validation, or drop the header route',
      );
    }
    return action;
  });
}

/**
 * Conditions for a header route: the route's header matches (src/core/routes.ts) as http-header
 * conditions, ALB patterns without repeats, then the driven rule's own conditions so the route only catches
 * the traffic that rule catches.
 */
export function headerRouteConditions(matches: HeaderMatch[], driven: RuleCondition[]): RuleCondition[] {
  const headers: RuleCondition[] = matches.map((m) => ({
    Field: 'http-header',
    HttpHeaderConfig: { HttpHeaderName: m.headerName, Values: [...new Set(m.values.map(albHeaderValue))] },
  }));
  return [...headers, ...driven.map(writableCondition)];
}

/** Real DescribeRules fills the legacy top-level `Values` next to the typed config; send only one form. */
function writableCondition(c: RuleCondition): RuleCondition {
  const typed = c.HostHeaderConfig ?? c.PathPatternConfig ?? c.HttpHeaderConfig ?? c.QueryStringConfig ??
    c.HttpRequestMethodConfig ?? c.SourceIpConfig;
  if (!typed || c.Values === undefined) return c;
  const { Values: _legacy, ...rest } = c;
  return rest;
}

/** A listener rule's priority as a number; `undefined` for the default rule. */
export function rulePriority(rule: Rule): number | undefined {
  if (rule.IsDefault || rule.Priority === 'default' || rule.Priority === undefined) return undefined;
  const n = Number(rule.Priority);
  return Number.isInteger(n) ? n : undefined;
}

export interface PriorityCandidate {
  priority: number;
  ruleArn: string;
  /** A header-route rule of this Rollout: it may sit between a new route and the driven rule. */
  ours: boolean;
}

/**
 * Where a new header-route rule goes: the free priority right in front of the driven rule (below the
 * run of this Rollout's own route rules already there). Nothing foreign may sit in between, since it
 * would see the header traffic first; we never move other rules. For the default action, after every rule.
 */
export function headerRoutePriority(drivenPriority: number | undefined, rules: PriorityCandidate[]): number {
  if (drivenPriority === undefined) {
    const next = Math.max(0, ...rules.map((r) => r.priority)) + 1;
    if (next > MAX_RULE_PRIORITY) throw new Error(`the listener has a rule at priority ${MAX_RULE_PRIORITY}; no room after it for a header route`);
    return next;
  }
  const byPriority = new Map(rules.map((r) => [r.priority, r]));
  for (let p = drivenPriority - 1; p >= 1; p--) {
    const holder = byPriority.get(p);
    if (!holder) return p;
    if (!holder.ours) {
      throw new Error(
        `priority ${p}, just ahead of the driven rule (priority ${drivenPriority}), is taken by rule ${holder.ruleArn}; ` +
          `a header route has to go right in front of the driven rule: leave priorities free below it (e.g. move the driven rule to ${drivenPriority + 10})`,
      );
    }
  }
  throw new Error(
    `the driven rule has priority ${drivenPriority} and no free priority is left in front of it for a header route; ` +
      `give the driven rule a higher priority number (e.g. ${drivenPriority + 10})`,
  );
}
