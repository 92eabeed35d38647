// SetWeight's write on the driven rule: the Rollout's desired weights (src/core, refused before any lookup)
// on the target groups their roles and experiment Services resolve to, then read, compare, and write the
// forward only when it differs. Every other action of the rule stays as it is (forward.ts). A write goes only to a
// rule (or listener) carrying the opt-in tag (driven-tag.ts).

import { ModifyListenerCommand, ModifyRuleCommand, type Action, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { WeightDestination } from '../../core/rollout.js';
import { resolveDestinations, resolveRole, type BindingReader } from './bindings.js';
import type { ListenerRuleConfig } from './config.js';
import { drivenResource, requireDrivenTag } from './driven-tag.js';
import { currentForward, desiredForward, forwardDifferences, stepWeights, withForward, type CurrentForward, type DesiredForward } from './forward.js';
import { isNotFound, type LocatedRule, type ListenerRuleElbv2, type RuleLocation } from './locate.js';

export interface PlannedForward {
  desired: DesiredForward;
  stableArn: string;
  canaryArn: string;
  /** Where each target group came from, for an error ELBv2 gives about one of them. */
  sources: string;
}

/** The forward one step asks for: weights validated first, then the target groups looked up. */
export async function planForward(
  config: ListenerRuleConfig,
  desiredWeight: number,
  additional: WeightDestination[],
  bindings: BindingReader,
): Promise<PlannedForward> {
  const weights = stepWeights(config, desiredWeight, additional);
  const [stableArn, canaryArn, extra] = await Promise.all([
    resolveRole(config.stable, config.namespace, bindings),
    resolveRole(config.canary, config.namespace, bindings),
    resolveDestinations(additional, config.namespace, bindings),
  ]);
  const desired = desiredForward(weights, { canary: canaryArn, stable: stableArn, experiments: extra.map((d) => d.arn) }, config.stickiness);
  const sources = [
    `${config.canary.field} = ${canaryArn}`,
    ...extra.map((d) => `experiment Service ${d.serviceName} = ${d.arn}`),
    `${config.stable.field} = ${stableArn}`,
  ].join('; ');
  return { desired, stableArn, canaryArn, sources };
}

/** The rule's forward, refused when there is none or it sends nothing to `ours`: a wrong selector must not move traffic. */
export function drivenForward(rule: Rule, config: ListenerRuleConfig, ours: string[]): CurrentForward {
  const where = rule.IsDefault ? `the default action of listener` : `listener rule ${rule.RuleArn}`;
  const current = currentForward(rule.Actions ?? []);
  if (!current) {
    throw new Error(
      `${where} (${config.path}.listenerRule) has no forward action; point listenerRule at the rule that forwards to the stable target group`,
    );
  }
  if (![...current.weights.keys()].some((arn) => ours.includes(arn))) {
    throw new Error(
      `${where} (${config.path}.listenerRule) forwards to ${[...current.weights.keys()].join(', ') || 'nothing'}, none of which is ` +
        `the stable or canary target group; check listenerRule and the target groups, the rule must already forward to the stable one`,
    );
  }
  return current;
}

async function send(aws: ListenerRuleElbv2, location: RuleLocation, actions: Action[]): Promise<void> {
  if (location.ruleArn) await aws.send(new ModifyRuleCommand({ RuleArn: location.ruleArn, Actions: actions }));
  else await aws.send(new ModifyListenerCommand({ ListenerArn: location.listenerArn, DefaultActions: actions }));
}

/** The outcome of one SetWeight-like write, for logs and tests. */
export type WriteOutcome = { written: false } | { written: true; reasons: string[] };

/**
 * Writes `desired` onto the rule unless it already carries it; `beforeWrite` runs only when a write follows, after
 * the opt-in tag is checked (a rule the plugin may not change is refused before the guard reads anything).
 */
export async function writeForward(
  aws: ListenerRuleElbv2,
  config: ListenerRuleConfig,
  { location, rule }: LocatedRule,
  desired: DesiredForward,
  ours: string[],
  sources: string,
  beforeWrite?: () => Promise<void>,
): Promise<WriteOutcome> {
  const current = drivenForward(rule, config, ours);
  const reasons = forwardDifferences(current, desired);
  if (reasons.length === 0) return { written: false };
  await requireDrivenTag(aws, config, location);
  await beforeWrite?.();
  try {
    await send(aws, location, withForward(rule.Actions ?? [], current, desired));
  } catch (err) {
    // The kept tag may be what changed (removed by hand: AccessDenied); the next write reads it again.
    aws.forgetTags?.([drivenResource(location)]);
    if (!isNotFound(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`ELBv2 refused the new forward action: ${message}; check the target groups (${sources})`, { cause: err });
  }
  return { written: true, reasons };
}
