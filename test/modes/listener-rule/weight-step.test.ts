// The mapping of a listener-rule config onto the mode-neutral WeightStep: what the gate remembers a
// verification under, and what the final-switch guard sees.
import { describe, expect, it } from 'vitest';
import { parseListenerRuleConfig } from '../../../src/modes/listener-rule/config.js';
import { ruleWeightStep } from '../../../src/modes/listener-rule/weight-step.js';
import type { WeightDestination } from '../../../src/core/rollout.js';
import { verificationKey } from '../../../src/verify/gate.js';
import { isFinalSwitch } from '../../../src/verify/guard.js';
import { PLUGIN, rollout, type RolloutOptions } from './fixtures.js';

const RULE = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/shared-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const TG = (name: string) => `arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/${name}/0123456789abcdef`;
const baseBlock = { listenerRule: { ruleArn: RULE }, stableTargetGroup: { targetGroupBinding: 'stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'canary-tgb' } };

function key(o: Partial<RolloutOptions> & { weight?: number; extra?: WeightDestination[]; maxWeight?: number } = {}): string {
  const ro = rollout({ block: baseBlock, ...o });
  if (o.maxWeight) ro.spec.strategy.canary!.trafficRouting!.maxTrafficWeight = o.maxWeight;
  const config = parseListenerRuleConfig(ro, PLUGIN);
  return verificationKey(ruleWeightStep(ro, config, o.weight ?? 20, o.extra ?? []));
}

describe('ruleWeightStep', () => {
  it('gives the same identity for the same rule, target groups and weights', () => {
    expect(key()).toBe(key());
  });

  it.each([
    ['another rule', { block: { ...baseBlock, listenerRule: { loadBalancerName: 'lb', listenerPort: 443, defaultAction: true } } }],
    ['another stable target group', { block: { ...baseBlock, stableTargetGroup: { arn: TG('blue') } } }],
    ['another canary binding', { block: { ...baseBlock, canaryTargetGroup: { targetGroupBinding: 'green-tgb' } } }],
    ['stickiness', { block: { ...baseBlock, stickinessConfig: { enabled: true, durationSeconds: 60 } } }],
    ['another desired weight', { weight: 30 }],
    ['an experiment', { extra: [{ serviceName: 'exp', weight: 10 }] }],
    ['maxTrafficWeight', { maxWeight: 200 }],
  ] as Array<[string, Parameters<typeof key>[0]]>)('changes with %s', (_label, o) => {
    expect(key(o)).not.toBe(key());
  });

  it.each([
    // label, ping-pong, desired weight, last canary weight, final switch?
    ['the switch back to stable after promotion', false, 0, 100, true],
    ['the same with ping-pong', true, 0, 100, false],
    ['a promotion from a partial canary', false, 0, 40, false],
  ] as Array<[string, boolean, number, number, boolean]>)('lets the guard see %s', (_label, pingPong, weight, last, expected) => {
    const block = pingPong
      ? { listenerRule: { ruleArn: RULE }, pingTargetGroup: { arn: TG('ping') }, pongTargetGroup: { arn: TG('pong') } }
      : baseBlock;
    const ro = rollout({ block, pingPong });
    ro.status = {
      stableRS: 'new',
      currentPodHash: 'new',
      canary: { weights: { canary: { serviceName: 'c', weight: last }, stable: { serviceName: 's', weight: 100 - last } } },
    };
    const req = ruleWeightStep(ro, parseListenerRuleConfig(ro, PLUGIN), weight, [], 'app-stable');
    expect(req.services.stable).toBe('app-stable');
    expect(isFinalSwitch(req)).toBe(expected);
  });
});
