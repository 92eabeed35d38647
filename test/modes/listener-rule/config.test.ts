import { describe, expect, it } from 'vitest';
import { parseListenerRuleConfig } from '../../../src/modes/listener-rule/config.js';
import type { Rollout } from '../../../src/core/rollout.js';

const PLUGIN = 'argoproj-labs/alb';
const P = `spec.strategy.canary.trafficRouting.plugins["${PLUGIN}"]`;
const RULE_ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const LB_ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/shared/50dc6c495c0c9188';
const TG = (name: string) => `arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/${name}/73e2d6bc24d8a067`;

function rollout(block: unknown, extra: { pingPong?: boolean; stablePingPong?: string; maxTrafficWeight?: number } = {}): Rollout {
  return {
    metadata: { name: 'api', namespace: 'shop' },
    spec: {
      strategy: {
        canary: {
          ...(extra.pingPong
            ? { pingPong: { pingService: 'api-ping', pongService: 'api-pong' } }
            : { stableService: 'api-stable', canaryService: 'api-canary' }),
          trafficRouting: {
            plugins: { [PLUGIN]: block },
            ...(extra.maxTrafficWeight !== undefined ? { maxTrafficWeight: extra.maxTrafficWeight } : {}),
          },
        },
      },
    },
    status: extra.stablePingPong !== undefined ? { canary: { stablePingPong: extra.stablePingPong } } : {},
  };
}

const tgs = { stableTargetGroup: { arn: TG('stable') }, canaryTargetGroup: { targetGroupBinding: 'api-canary-tgb' } };

describe('parseListenerRuleConfig: accepted forms', () => {
  it.each([
    ['rule ARN', { ruleArn: RULE_ARN }, { kind: 'arn', ruleArn: RULE_ARN }],
    [
      'load balancer name, port, host and path',
      { loadBalancerName: 'shared', listenerPort: 443, conditions: { host: 'a.example.com', path: ['/api/*', '/v2/*'] } },
      { kind: 'conditions', loadBalancer: { name: 'shared' }, listenerPort: 443, host: ['a.example.com'], path: ['/api/*', '/v2/*'] },
    ],
    [
      'load balancer ARN and a path only',
      { loadBalancerArn: LB_ARN, listenerPort: 80, conditions: { path: '/x' } },
      { kind: 'conditions', loadBalancer: { arn: LB_ARN }, listenerPort: 80, host: [], path: ['/x'] },
    ],
    [
      'default action',
      { loadBalancerName: 'shared', listenerPort: 8080, defaultAction: true },
      { kind: 'default', loadBalancer: { name: 'shared' }, listenerPort: 8080 },
    ],
  ])('%s', (_label, listenerRule, want) => {
    const config = parseListenerRuleConfig(rollout({ listenerRule, ...tgs }), PLUGIN);
    expect(config.rule).toEqual(want);
    expect(config).toMatchObject({
      namespace: 'shop',
      rolloutName: 'api',
      pingPong: false,
      maxWeight: 100,
      stable: { ref: { arn: TG('stable') }, service: 'api-stable', field: `${P}.stableTargetGroup` },
      canary: { ref: { targetGroupBinding: 'api-canary-tgb' }, service: 'api-canary', field: `${P}.canaryTargetGroup` },
    });
    expect(config.stickiness).toBeUndefined();
  });

  it.each([
    ['ping', 'ping', 'pong'],
    ['pong', 'pong', 'ping'],
    ['', 'pong', 'ping'],
    [undefined, 'pong', 'ping'],
    ['api-ping', 'pong', 'ping'],
  ])('ping-pong with stablePingPong %j: stable is %s', (status, stable, canary) => {
    const block = {
      listenerRule: { ruleArn: RULE_ARN },
      pingTargetGroup: { targetGroupBinding: 'ping-tgb' },
      pongTargetGroup: { targetGroupBinding: 'pong-tgb' },
    };
    const extra = status === undefined ? { pingPong: true } : { pingPong: true, stablePingPong: status };
    const config = parseListenerRuleConfig(rollout(block, extra), PLUGIN);
    expect(config.pingPong).toBe(true);
    expect(config.stable).toEqual({ ref: { targetGroupBinding: `${stable}-tgb` }, service: `api-${stable}`, field: `${P}.${stable}TargetGroup` });
    expect(config.canary).toEqual({ ref: { targetGroupBinding: `${canary}-tgb` }, service: `api-${canary}`, field: `${P}.${canary}TargetGroup` });
  });

  it.each([
    [{ enabled: true, durationSeconds: 3600 }, { enabled: true, durationSeconds: 3600 }],
    [{ enabled: true, durationSeconds: 604800 }, { enabled: true, durationSeconds: 604800 }],
    [{ enabled: false, durationSeconds: 0 }, { enabled: false, durationSeconds: 0 }],
    [{ enabled: false }, { enabled: false, durationSeconds: 0 }],
  ])('stickiness %j', (stickinessConfig, want) => {
    const config = parseListenerRuleConfig(rollout({ listenerRule: { ruleArn: RULE_ARN }, ...tgs, stickinessConfig }), PLUGIN);
    expect(config.stickiness).toEqual(want);
  });

  it('takes maxTrafficWeight as the total', () => {
    const config = parseListenerRuleConfig(rollout({ listenerRule: { ruleArn: RULE_ARN }, ...tgs }, { maxTrafficWeight: 999 }), PLUGIN);
    expect(config.maxWeight).toBe(999);
  });
});

describe('parseListenerRuleConfig: errors name the field and the fix', () => {
  const rule = { ruleArn: RULE_ARN };
  it.each([
    ['no plugin block', undefined, {}, `${P} is missing or not an object`],
    ['mixed with ingress', { ingress: 'web', listenerRule: rule, ...tgs }, {}, `${P}.ingress belongs to Ingress mode and cannot be combined with ${P}.listenerRule`],
    ['mixed with ingresses', { ingresses: ['web'], listenerRule: rule, ...tgs }, {}, `${P}.ingresses belongs to Ingress mode`],
    ['servicePort', { servicePort: 80, listenerRule: rule, ...tgs }, {}, `${P}.servicePort belongs to Ingress mode`],
    ['a typo', { listenerRule: rule, ...tgs, canaryTargetGroups: {} }, {}, `${P}.canaryTargetGroups is not a listener-rule mode field`],
    ['listenerRule not an object', { listenerRule: 'x', ...tgs }, {}, `${P}.listenerRule must be an object`],
    ['unknown listenerRule field', { listenerRule: { ruleArn: RULE_ARN, priority: 3 }, ...tgs }, {}, `${P}.listenerRule.priority is not a listenerRule field`],
    ['ruleArn plus more', { listenerRule: { ruleArn: RULE_ARN, listenerPort: 80 }, ...tgs }, {}, `${P}.listenerRule.ruleArn identifies the rule on its own; remove ${P}.listenerRule.listenerPort`],
    ['ruleArn of a listener', { listenerRule: { ruleArn: LB_ARN }, ...tgs }, {}, `${P}.listenerRule.ruleArn must be an ALB listener rule ARN`],
    ['nothing to find the rule by', { listenerRule: {}, ...tgs }, {}, `${P}.listenerRule names no rule`],
    ['name and ARN', { listenerRule: { loadBalancerName: 'a', loadBalancerArn: LB_ARN, listenerPort: 80, defaultAction: true }, ...tgs }, {}, 'sets both loadBalancerName and loadBalancerArn'],
    ['bad load balancer ARN', { listenerRule: { loadBalancerArn: RULE_ARN, listenerPort: 80, defaultAction: true }, ...tgs }, {}, `${P}.listenerRule.loadBalancerArn must be an ALB ARN`],
    ['no port', { listenerRule: { loadBalancerName: 'a', defaultAction: true }, ...tgs }, {}, `${P}.listenerRule.listenerPort is required`],
    ['port out of range', { listenerRule: { loadBalancerName: 'a', listenerPort: 70000, defaultAction: true }, ...tgs }, {}, `${P}.listenerRule.listenerPort must be an integer from 1 to 65535; got 70000`],
    ['port as string', { listenerRule: { loadBalancerName: 'a', listenerPort: '80', defaultAction: true }, ...tgs }, {}, 'got "80"'],
    ['defaultAction false', { listenerRule: { loadBalancerName: 'a', listenerPort: 80, defaultAction: false }, ...tgs }, {}, `${P}.listenerRule.defaultAction can only be true`],
    ['conditions and defaultAction', { listenerRule: { loadBalancerName: 'a', listenerPort: 80, defaultAction: true, conditions: { host: 'x' } }, ...tgs }, {}, 'sets both conditions and defaultAction'],
    ['no conditions', { listenerRule: { loadBalancerName: 'a', listenerPort: 80 }, ...tgs }, {}, `${P}.listenerRule.conditions is required`],
    ['empty conditions', { listenerRule: { loadBalancerName: 'a', listenerPort: 80, conditions: {} }, ...tgs }, {}, `${P}.listenerRule.conditions needs host, path or both`],
    ['other condition', { listenerRule: { loadBalancerName: 'a', listenerPort: 80, conditions: { header: 'x' } }, ...tgs }, {}, `${P}.listenerRule.conditions.header is not supported`],
    ['empty host list', { listenerRule: { loadBalancerName: 'a', listenerPort: 80, conditions: { host: [] } }, ...tgs }, {}, `${P}.listenerRule.conditions.host must be a non-empty string`],
    ['no stable target group', { listenerRule: rule, canaryTargetGroup: { arn: TG('c') } }, {}, `${P}.stableTargetGroup is required: {arn: <target group ARN>} or {targetGroupBinding: <name of the binding for the stable Service>}`],
    ['no canary target group', { listenerRule: rule, stableTargetGroup: { arn: TG('s') } }, {}, `${P}.canaryTargetGroup is required`],
    ['both arn and binding', { listenerRule: rule, stableTargetGroup: { arn: TG('s'), targetGroupBinding: 'x' }, canaryTargetGroup: { arn: TG('c') } }, {}, `${P}.stableTargetGroup must have exactly one of arn or targetGroupBinding`],
    ['a target group name instead of ARN', { listenerRule: rule, stableTargetGroup: { arn: 'stable' }, canaryTargetGroup: { arn: TG('c') } }, {}, `${P}.stableTargetGroup.arn must be a target group ARN`],
    ['empty binding name', { listenerRule: rule, stableTargetGroup: { targetGroupBinding: '' }, canaryTargetGroup: { arn: TG('c') } }, {}, `${P}.stableTargetGroup.targetGroupBinding must be the name`],
    ['same target group twice', { listenerRule: rule, stableTargetGroup: { arn: TG('s') }, canaryTargetGroup: { arn: TG('s') } }, {}, 'name the same target group'],
    ['stable/canary with ping-pong', { listenerRule: rule, ...tgs }, { pingPong: true }, `${P}.stableTargetGroup cannot be used with canary.pingPong`],
    ['ping without ping-pong', { listenerRule: rule, ...tgs, pingTargetGroup: { arn: TG('p') } }, {}, `${P}.pingTargetGroup needs spec.strategy.canary.pingPong`],
    ['ping-pong without pong', { listenerRule: rule, pingTargetGroup: { arn: TG('p') } }, { pingPong: true }, `${P}.pongTargetGroup is required`],
    // stickinessConfig, maxTrafficWeight, Services and header routes: test/core/modes.table.test.ts (both modes).
  ] as const)('%s', (_label, block, extra, message) => {
    expect(() => parseListenerRuleConfig(rollout(block, extra), PLUGIN)).toThrow(message);
  });
});
