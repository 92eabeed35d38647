// What a listener-rule Rollout leaves behind when it is deleted or leaves the mode: the driven forward at
// 100 % on the effective stable target group (from the Rollout's last status, so ping-pong is respected)
// and none of its header-route rules (found by their tag on the load balancer, not from memory).

import { SOLE_WEIGHT } from '../../core/limits.js';
import { resolveRole, type BindingReader } from './bindings.js';
import type { ListenerRuleConfig } from './config.js';
import type { DrivenRules } from './driven-rule.js';
import { removeOwnedRules, type Owner, type RuleTagCache } from './header-routes.js';
import type { ListenerRuleElbv2 } from './locate.js';
import { writeForward } from './rule-writer.js';

export interface ReleaseDeps {
  elbv2: ListenerRuleElbv2;
  bindings: BindingReader;
  rules: DrivenRules;
  tagCache: RuleTagCache;
}

export async function releaseRule(deps: ReleaseDeps, config: ListenerRuleConfig, owner: Owner): Promise<void> {
  const stableArn = await resolveRole(config.stable, config.namespace, deps.bindings);
  const canaryArn = await resolveRole(config.canary, config.namespace, deps.bindings);
  const driven = await deps.rules.read(config, deps.elbv2);
  await removeOwnedRules(deps.elbv2, driven.location.listenerArn, owner, deps.tagCache);
  const desired = { targetGroups: [{ arn: stableArn, weight: SOLE_WEIGHT }] };
  await writeForward(deps.elbv2, config, driven, desired, [stableArn, canaryArn], `${config.stable.field} = ${stableArn}`);
  deps.rules.forget(config);
}
