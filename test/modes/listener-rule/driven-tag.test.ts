// The opt-in tag check against a scripted ELBv2 (moto does not enforce IAM): the tag is read once and kept through
// the shared discovery, and a write AWS refuses (the tag removed by hand since) drops it, so the next attempt reads
// it again and answers with the clear refusal instead of a second AccessDenied.
import { ModifyRuleCommand, type Action, type Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import type { Elbv2, LateList } from '../../../src/aws/elbv2.js';
import { DRIVEN_TAG_KEY, DRIVEN_TAG_VALUE } from '../../../src/modes/listener-rule/driven-tag.js';
import { createListenerRuleRouter } from '../../../src/modes/listener-rule/router.js';
import { keepingTags, rollout } from './fixtures.js';

const RULE = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/tf-shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const STABLE = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tf-blue/6d0ecf831eec9f09';
const CANARY = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tf-green/0d2b5a1f1ad3e4c7';

/** One rule, its tags, and whether IAM would let ModifyRule through (it checks the tag as it was at the call). */
function scriptedElbv2() {
  const state = {
    tags: { [DRIVEN_TAG_KEY]: DRIVEN_TAG_VALUE } as Record<string, string>,
    actions: [{ Type: 'forward', TargetGroupArn: STABLE }] as Action[],
    calls: [] as string[],
  };
  const elbv2 = {
    async describeRules(): Promise<Rule[]> {
      state.calls.push('DescribeRules');
      return [{ RuleArn: RULE, Priority: '10', IsDefault: false, Conditions: [], Actions: state.actions }];
    },
    async describeTags(arns: LateList) {
      state.calls.push('DescribeTags');
      const list = typeof arns === 'function' ? arns() : arns;
      return new Map(list.map((arn) => [arn, arn === RULE ? { ...state.tags } : {}]));
    },
    async send(command: unknown) {
      if (!(command instanceof ModifyRuleCommand)) throw new Error('unexpected write');
      state.calls.push('ModifyRule');
      if (state.tags[DRIVEN_TAG_KEY] !== DRIVEN_TAG_VALUE) {
        throw Object.assign(new Error(`User is not authorized to perform: elasticloadbalancing:ModifyRule on resource: ${RULE}`), { name: 'AccessDenied' });
      }
      state.actions = command.input.Actions ?? [];
      return {};
    },
  };
  return { state, elbv2: elbv2 as unknown as Elbv2 };
}

const block = { listenerRule: { ruleArn: RULE }, stableTargetGroup: { arn: STABLE }, canaryTargetGroup: { arn: CANARY } };
const noBindings = { getTargetGroupBinding: async () => undefined, listTargetGroupBindings: async () => [] };

describe('the opt-in tag, kept and forgotten', () => {
  it('reads the tag at the first write only; a write AWS refuses drops it, and the next attempt names the missing tag', async () => {
    const { state, elbv2 } = scriptedElbv2();
    const router = createListenerRuleRouter({ elbv2: keepingTags(elbv2), ...noBindings, pluginName: 'argoproj-labs/alb' });
    const ro = rollout({ block });

    await router.setWeight(ro, 20, []);
    expect(state.calls).toEqual(['DescribeRules', 'DescribeTags', 'ModifyRule']);
    state.calls = [];
    await router.setWeight(ro, 30, []);
    expect(state.calls).toEqual(['DescribeRules', 'ModifyRule']);

    // Someone removes the tag: the kept answer lets one write go to AWS, which refuses it.
    delete state.tags[DRIVEN_TAG_KEY];
    state.calls = [];
    await expect(router.setWeight(ro, 40, [])).rejects.toThrow(/not authorized/);
    expect(state.calls).toEqual(['DescribeRules', 'ModifyRule']);
    state.calls = [];
    await expect(router.setWeight(ro, 40, [])).rejects.toThrow(
      `listener rule ${RULE} (spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"].listenerRule) does not carry the tag ${DRIVEN_TAG_KEY}`,
    );
    expect(state.calls).toEqual(['DescribeRules', 'DescribeTags']);

    // Refusals are not kept either: tagged again, the next SetWeight writes.
    state.tags[DRIVEN_TAG_KEY] = DRIVEN_TAG_VALUE;
    state.calls = [];
    await router.setWeight(ro, 40, []);
    expect(state.calls).toEqual(['DescribeRules', 'DescribeTags', 'ModifyRule']);
  });

  it('without the shared discovery reads the tag at every write', async () => {
    const { state, elbv2 } = scriptedElbv2();
    const router = createListenerRuleRouter({ elbv2, ...noBindings, pluginName: 'argoproj-labs/alb' });
    await router.setWeight(rollout({ block }), 20, []);
    await router.setWeight(rollout({ block }), 30, []);
    expect(state.calls.filter((c) => c === 'DescribeTags')).toHaveLength(2);
  });
});
