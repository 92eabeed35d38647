import { describe, expect, it } from 'vitest';
import type { Action, Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  currentForward,
  desiredForward,
  forwardDifferences,
  headerRouteActions,
  headerRouteConditions,
  headerRoutePriority,
  rulePriority,
  withForward,
} from '../../../src/modes/listener-rule/forward.js';
import { headerMatches } from '../../../src/core/routes.js';
import type { HeaderRoutingMatch } from '../../../src/core/rollout.js';
import { desiredWeights } from '../../../src/core/weights.js';
import { listenerArnOfRule, ruleMatches } from '../../../src/modes/listener-rule/locate.js';

const C = 'arn:tg/canary';
const S = 'arn:tg/stable';
const E1 = 'arn:tg/exp1';
const E2 = 'arn:tg/exp2';
// The weights come from src/core/weights.ts; their refusals are in test/core/modes.table.test.ts, for both modes.
describe('desiredForward', () => {
  it.each([
    [0, [], 100, [[C, 0], [S, 100]]],
    [100, [], 100, [[C, 100], [S, 0]]],
    [10, [[E1, 20]], 100, [[C, 10], [E1, 20], [S, 70]]],
    [0, [[E1, 20], [E2, 20]], 100, [[C, 0], [E1, 20], [E2, 20], [S, 60]]],
    [250, [], 999, [[C, 250], [S, 749]]],
  ] as const)('canary %d with experiments %j of %d', (desiredWeight, extra, maxWeight, want) => {
    const weights = desiredWeights({
      services: { canary: 'canary-svc', stable: 'stable-svc' },
      desiredWeight,
      additionalDestinations: extra.map(([arn, weight]) => ({ serviceName: arn, weight })),
      maxWeight,
    });
    const out = desiredForward(weights, { canary: C, stable: S, experiments: extra.map(([arn]) => arn) });
    expect(out.targetGroups).toEqual(want.map(([arn, weight]) => ({ arn, weight })));
    expect(out.stickiness).toBeUndefined();
  });

  it('carries configured stickiness', () => {
    const weights = desiredWeights({ services: { canary: 'c', stable: 's' }, desiredWeight: 10, additionalDestinations: [], maxWeight: 100 });
    expect(desiredForward(weights, { canary: C, stable: S, experiments: [] }, { enabled: true, durationSeconds: 60 }).stickiness).toEqual({
      enabled: true,
      durationSeconds: 60,
    });
  });

  it('refuses one target group twice (an experiment Service bound to the stable target group)', () => {
    const weights = desiredWeights({
      services: { canary: 'c', stable: 's' },
      desiredWeight: 0,
      additionalDestinations: [{ serviceName: 'exp', weight: 1 }],
      maxWeight: 100,
    });
    expect(() => desiredForward(weights, { canary: C, stable: S, experiments: [S] })).toThrow(`target group ${S} appears twice`);
  });
});

const forwardOf = (tgs: Array<[string, number]>, extra: Partial<Action> = {}): Action => ({
  Type: 'forward',
  ForwardConfig: { TargetGroups: tgs.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })) },
  ...extra,
});

describe('currentForward and forwardDifferences', () => {
  it('reads a lone TargetGroupArn as everything to that target group', () => {
    const current = currentForward([{ Type: 'forward', TargetGroupArn: S }])!;
    expect([...current.weights]).toEqual([[S, 1]]);
    expect(forwardDifferences(current, { targetGroups: [{ arn: S, weight: 100 }] })).toEqual([]);
    expect(forwardDifferences(current, { targetGroups: [{ arn: C, weight: 0 }, { arn: S, weight: 100 }] })).toEqual([
      `${C} is not in the forward action (want weight 0)`,
      `${S} has weight 1, want 100`,
    ]);
  });

  it('finds the forward behind an authenticate action', () => {
    expect(currentForward([{ Type: 'authenticate-cognito', Order: 1 }, forwardOf([[S, 1]], { Order: 2 })])?.index).toBe(1);
    expect(currentForward([{ Type: 'fixed-response' }])).toBeUndefined();
  });

  it.each([
    ['same weights in another order', [[S, 90], [C, 10]], [[C, 10], [S, 90]], undefined, {}, []],
    ['a changed weight', [[C, 50], [S, 50]], [[C, 10], [S, 90]], undefined, {}, [`${C} has weight 50, want 10`, `${S} has weight 50, want 90`]],
    ['a stray target group', [[C, 10], [E1, 5], [S, 85]], [[C, 10], [S, 85]], undefined, {}, [`${E1} has weight 5 but should not be in the forward action`]],
    ['stickiness off, wanted on', [[C, 10], [S, 90]], [[C, 10], [S, 90]], { enabled: true, durationSeconds: 60 }, {}, ['stickiness is off, want on']],
    [
      'another stickiness duration',
      [[C, 10], [S, 90]],
      [[C, 10], [S, 90]],
      { enabled: true, durationSeconds: 60 },
      { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 30 } },
      ['stickiness lasts 30 s, want 60 s'],
    ],
    ['stickiness not configured: the rule keeps its own', [[C, 10], [S, 90]], [[C, 10], [S, 90]], undefined, { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 30 } }, []],
  ] as const)('%s', (_label, have, want, stickiness, extra, reasons) => {
    const action = forwardOf(have.map(([a, w]) => [a, w]));
    Object.assign(action.ForwardConfig!, extra);
    const desired = { targetGroups: want.map(([arn, weight]) => ({ arn, weight })), ...(stickiness ? { stickiness } : {}) };
    expect(forwardDifferences(currentForward([action])!, desired)).toEqual(reasons);
  });
});

describe('withForward', () => {
  const oidc: Action = {
    Type: 'authenticate-oidc',
    Order: 1,
    AuthenticateOidcConfig: { Issuer: 'https://idp', AuthorizationEndpoint: 'a', TokenEndpoint: 't', UserInfoEndpoint: 'u', ClientId: 'id' },
  };

  it('replaces only the forward, keeps its Order, and keeps the OIDC client secret server-side', () => {
    const actions = [oidc, { Type: 'forward', Order: 2, TargetGroupArn: S, ForwardConfig: { TargetGroups: [{ TargetGroupArn: S, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: false } } } as Action];
    const out = withForward(actions, currentForward(actions)!, { targetGroups: [{ arn: C, weight: 20 }, { arn: S, weight: 80 }] });
    expect(out).toEqual([
      { ...oidc, AuthenticateOidcConfig: { ...oidc.AuthenticateOidcConfig, UseExistingClientSecret: true } },
      {
        Type: 'forward',
        Order: 2,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: C, Weight: 20 }, { TargetGroupArn: S, Weight: 80 }],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
  });

  it('passes an OIDC action that carries its secret back unchanged', () => {
    const withSecret = { ...oidc, AuthenticateOidcConfig: { ...oidc.AuthenticateOidcConfig!, ClientSecret: 's' } };
    const actions = [withSecret, forwardOf([[S, 1]], { Order: 2 })];
    expect(withForward(actions, currentForward(actions)!, { targetGroups: [{ arn: S, weight: 100 }] })[0]).toBe(withSecret);
  });

  it.each([
    [{ enabled: true, durationSeconds: 120 }, { Enabled: true, DurationSeconds: 120 }],
    [{ enabled: false, durationSeconds: 0 }, { Enabled: false }],
  ])('writes configured stickiness %j', (stickiness, want) => {
    const actions = [forwardOf([[S, 1]], { ForwardConfig: { TargetGroups: [{ TargetGroupArn: S }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 5 } } })];
    const out = withForward(actions, currentForward(actions)!, { targetGroups: [{ arn: S, weight: 100 }], stickiness });
    expect(out[0]!.ForwardConfig!.TargetGroupStickinessConfig).toEqual(want);
  });
});

describe('header-route rules', () => {
  it('groups values per header name, maps prefix to a wildcard, and appends the driven conditions without legacy Values', () => {
    const match: HeaderRoutingMatch[] = [
      { headerName: 'origin', headerValue: { exact: 'https://a' } },
      { headerName: 'Agent', headerValue: { prefix: 'Chrome' } },
      { headerName: 'origin', headerValue: { exact: 'https://b' } },
      { headerName: 'origin', headerValue: { exact: 'https://a' } },
    ];
    const conditions = headerRouteConditions(headerMatches(match, 'setHeaderRoute "r"'), [
      { Field: 'host-header', Values: ['x.example.com'], HostHeaderConfig: { Values: ['x.example.com'] } },
    ]);
    expect(conditions).toEqual([
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'origin', Values: ['https://a', 'https://b'] } },
      { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Agent', Values: ['Chrome*'] } },
      { Field: 'host-header', HostHeaderConfig: { Values: ['x.example.com'] } },
    ]);
  });

  // Refusals of header matches (regex, no value, no name, the quota): test/core/modes.table.test.ts, for both modes.

  it('forwards everything to the canary behind copied authentication', () => {
    const cognito: Action = { Type: 'authenticate-cognito', Order: 1, AuthenticateCognitoConfig: { UserPoolArn: 'p', UserPoolClientId: 'c', UserPoolDomain: 'd' } };
    expect(headerRouteActions([cognito, forwardOf([[C, 10], [S, 90]], { Order: 2 })], C, { enabled: true, durationSeconds: 9 })).toEqual([
      cognito,
      { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: C, Weight: 100 }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 9 } } },
    ]);
  });

  it('refuses to copy an OIDC action whose secret ELBv2 did not return', () => {
    const oidc: Action = { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { Issuer: 'i', AuthorizationEndpoint: 'a', TokenEndpoint: 't', UserInfoEndpoint: 'u', ClientId: 'c' } };
    expect(() => headerRouteActions([oidc, forwardOf([[S, 1]], { Order: 2 })], C)).toThrow('cannot copy the authentication');
  });

  const ours = (priority: number) => ({ priority, ruleArn: `arn:rule/${priority}`, ours: true });
  const theirs = (priority: number) => ({ priority, ruleArn: `arn:rule/${priority}`, ours: false });
  it.each([
    ['a free slot right in front', 10, [theirs(10), theirs(20)], 9],
    ['below our own route rules', 10, [ours(9), ours(8), theirs(10)], 7],
    ['after everything for the default action', undefined, [theirs(3), theirs(40)], 41],
    ['priority 1 for the default action of an empty listener', undefined, [], 1],
  ] as const)('%s', (_label, driven, rules, want) => {
    expect(headerRoutePriority(driven, [...rules])).toBe(want);
  });

  it.each([
    ['a foreign rule in front', 10, [ours(9), theirs(8)], 'priority 8, just ahead of the driven rule (priority 10), is taken by rule arn:rule/8'],
    ['the driven rule at priority 1', 1, [], 'no free priority is left in front of it'],
    ['a full listener for the default action', undefined, [theirs(50000)], 'no room after it'],
  ] as const)('refuses %s', (_label, driven, rules, message) => {
    expect(() => headerRoutePriority(driven, [...rules])).toThrow(message);
  });

  it.each([
    [{ Priority: '12' }, 12],
    [{ Priority: 'default', IsDefault: true }, undefined],
    [{ Priority: '3', IsDefault: true }, undefined],
  ] as const)('rulePriority(%j) = %s', (rule, want) => {
    expect(rulePriority(rule as Rule)).toBe(want);
  });
});

describe('finding the rule', () => {
  it('derives the listener ARN from a rule ARN', () => {
    expect(
      listenerArnOfRule('arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee'),
    ).toBe('arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2');
  });

  const host = (v: string[], legacy = false) =>
    legacy ? { Field: 'host-header', Values: v } : { Field: 'host-header', HostHeaderConfig: { Values: v } };
  const path = (v: string[]) => ({ Field: 'path-pattern', PathPatternConfig: { Values: v } });
  it.each([
    ['host and path as configured', [host(['a']), path(['/x'])], ['a'], ['/x'], true],
    ['legacy Values', [host(['a'], true)], ['a'], [], true],
    ['values in another order', [path(['/y', '/x'])], [], ['/x', '/y'], true],
    ['an extra http-header condition (e.g. our own header route)', [{ Field: 'http-header' }, host(['a']), path(['/x'])], ['a'], ['/x'], false],
    ['a missing path condition', [host(['a'])], ['a'], ['/x'], false],
    ['another host', [host(['b'])], ['a'], [], false],
  ] as const)('%s', (_label, conditions, h, p, want) => {
    expect(ruleMatches({ Conditions: [...conditions] } as Rule, [...h], [...p])).toBe(want);
  });

  it('never matches the default rule', () => {
    expect(ruleMatches({ IsDefault: true, Conditions: [] }, [], [])).toBe(false);
  });
});
