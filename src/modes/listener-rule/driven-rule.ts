// Where each Rollout's driven rule is. The selector (ARN, load balancer + listener + conditions, or a
// listener's default action) is resolved once (locate.ts); after that every call reads the rule by its
// location, one DescribeRules. A rule found by its conditions stays the Rollout's only while it still has
// them, and a rule or listener that disappeared is looked up again once; a rule named by ARN never is.

import type { ListenerRuleConfig } from './config.js';
import { GoneError, listenerArnOfRule, locateRule, readRule, ruleMatches, type LocatedRule, type ListenerRuleElbv2, type RuleLocation } from './locate.js';

/** One Rollout's driven rule: what its calls queue on and its location is kept under. */
export function ruleKey(config: ListenerRuleConfig): string {
  return JSON.stringify([config.namespace, config.rolloutName, config.rule]);
}

export class DrivenRules {
  private readonly locations = new Map<string, RuleLocation>();

  /** The rule as ELBv2 has it now, and where it is. */
  async read(config: ListenerRuleConfig, aws: ListenerRuleElbv2): Promise<LocatedRule> {
    const field = `${config.path}.listenerRule`;
    const key = ruleKey(config);
    const cached = this.locations.get(key);
    if (cached) {
      try {
        const rule = await readRule(aws, cached, field);
        const selector = config.rule;
        if (selector.kind !== 'conditions' || ruleMatches(rule, selector.host, selector.path)) return { location: cached, rule };
        this.locations.delete(key);
      } catch (err) {
        if (!(err instanceof GoneError) || config.rule.kind === 'arn') throw err;
        this.locations.delete(key);
      }
    }
    const found = await locateRule(aws, config.rule, field);
    this.locations.set(key, found.location);
    return found;
  }

  /** The listener holding the driven rule: from its ARN, from a location already known, else looked up. */
  async listenerArn(config: ListenerRuleConfig, aws: ListenerRuleElbv2): Promise<string> {
    if (config.rule.kind === 'arn') return listenerArnOfRule(config.rule.ruleArn);
    return this.locations.get(ruleKey(config))?.listenerArn ?? (await this.read(config, aws)).location.listenerArn;
  }

  forget(config: ListenerRuleConfig): void {
    this.locations.delete(ruleKey(config));
  }
}
