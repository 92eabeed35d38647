import { describe, expect, it } from 'vitest';
import { modeOfBlock, routingMode, usesPlugin } from '../../src/core/plugin-block.js';
import type { Rollout } from '../../src/core/rollout.js';

const PLUGIN = 'argoproj-labs/alb';
const RULE_ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';

function rollout(plugins: Record<string, unknown> | undefined): Rollout {
  return { metadata: { name: 'r' }, spec: { strategy: { canary: { trafficRouting: plugins ? { plugins } : {} } } } };
}

describe('modeOfBlock', () => {
  it.each([
    [{ listenerRule: { ruleArn: RULE_ARN } }, 'listenerRule'],
    [{ listenerRule: {} }, 'listenerRule'],
    [{ ingress: 'web' }, 'ingress'],
    [{ httpRoute: 'web' }, 'gateway'],
    [{ httpRoutes: ['a', { name: 'b', namespace: 'n' }] }, 'gateway'],
    [{ httpRoute: 'web', ingress: 'web' }, 'gateway'],
    [{ httpRoute: 'web', listenerRule: {} }, 'gateway'],
    [{}, 'ingress'],
    [null, 'ingress'],
    ['listenerRule', 'ingress'],
    [[{ listenerRule: {} }], 'ingress'],
  ])('%j → %s', (block, want) => {
    expect(modeOfBlock(block)).toBe(want);
  });
});

describe('routingMode and usesPlugin', () => {
  it.each([
    ['no plugins', undefined, false, undefined],
    ['another plugin', { 'acme/other': {} }, false, undefined],
    ['this plugin, Ingress mode', { [PLUGIN]: { ingress: 'web', servicePort: 80 } }, true, 'ingress'],
    ['this plugin, an unreadable block', { [PLUGIN]: null }, true, 'ingress'],
    ['this plugin, listener-rule mode', { [PLUGIN]: { listenerRule: { ruleArn: RULE_ARN } } }, true, 'listenerRule'],
    ['this plugin, Gateway mode', { [PLUGIN]: { httpRoute: 'web' } }, true, 'gateway'],
  ] as const)('%s', (_label, plugins, uses, mode) => {
    const r = rollout(plugins as Record<string, unknown> | undefined);
    expect(usesPlugin(r, PLUGIN)).toBe(uses);
    expect(routingMode(r, PLUGIN)).toBe(mode);
  });
});
