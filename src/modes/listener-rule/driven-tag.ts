// The opt-in tag on the driven rule. deploy/iam-policy-listener-rule.json lets the sidecar rewrite a forward
// (ModifyRule, or ModifyListener for a default action) only on a rule or listener tagged
// `rollouts.argoproj.io/alb-plugin=managed`, so the owner of a load balancer managed outside Kubernetes says which
// of its rules a Rollout may drive, and a wrong selector cannot change any other. The plugin checks the tag itself
// before a write, so a missing one is refused with the rule, the tag and the command that adds it, not with a bare
// AccessDenied. Only a write needs it: reads, VerifyWeight and a SetWeight that finds the weights in place cost no
// tag read. A tag found is kept (the shared discovery, `keptTags`) until a write fails, so the check costs one
// DescribeTags per rule per sidecar; a refusal is not kept, so a tag added since is seen at the next attempt.

import type { ListenerRuleConfig } from './config.js';
import type { ListenerRuleElbv2, RuleLocation } from './locate.js';

/** The tag a driven rule (or, for `defaultAction: true`, its listener) must carry; the IAM policy names the same. */
export const DRIVEN_TAG_KEY = 'rollouts.argoproj.io/alb-plugin';
export const DRIVEN_TAG_VALUE = 'managed';

/** The resource a forward write goes to: the rule, or the listener for its default action. */
export function drivenResource(location: RuleLocation): string {
  return location.ruleArn ?? location.listenerArn;
}

async function tagsOf(aws: ListenerRuleElbv2, arn: string): Promise<Record<string, string> | undefined> {
  const tags = aws.keptTags ? await aws.keptTags([arn]) : await aws.describeTags([arn]);
  return tags.get(arn);
}

/** Throws, naming the rule, the tag and the fix, unless the driven rule (or listener) carries the tag. */
export async function requireDrivenTag(aws: ListenerRuleElbv2, config: ListenerRuleConfig, location: RuleLocation): Promise<void> {
  const arn = drivenResource(location);
  const value = (await tagsOf(aws, arn))?.[DRIVEN_TAG_KEY];
  if (value === DRIVEN_TAG_VALUE) return;
  // Not kept: the next attempt reads the tags again, so adding the tag is enough.
  aws.forgetTags?.([arn]);
  const what = location.ruleArn ? `listener rule ${arn}` : `listener ${arn} (its default action is driven)`;
  const has = value === undefined ? `does not carry the tag ${DRIVEN_TAG_KEY}` : `carries ${DRIVEN_TAG_KEY}=${value}`;
  throw new Error(
    `${what} (${config.path}.listenerRule) ${has}; the plugin changes only rules tagged ${DRIVEN_TAG_KEY}=${DRIVEN_TAG_VALUE} ` +
      `(its IAM policy, deploy/iam-policy-listener-rule.json, allows no other). If this Rollout should drive it, tag it: ` +
      `aws elbv2 add-tags --resource-arns ${arn} --tags Key=${DRIVEN_TAG_KEY},Value=${DRIVEN_TAG_VALUE}`,
  );
}
