// Which mode a plugin block asks for, decided by the sidecar's own mode list (src/modes/index.ts) in the mode
// table: the modes' claims in their order, Ingress mode taking the rest.
import { describe, expect, it } from 'vitest';
import { createElbv2 } from '../../src/aws/elbv2.js';
import { usesPlugin } from '../../src/core/plugin-block.js';
import type { Rollout } from '../../src/core/rollout.js';
import { MODES } from '../../src/modes/index.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import { parseSettings } from '../../src/settings.js';
import { offlineKubeConfig, testModeDeps } from '../support/mode-deps.js';

const PLUGIN = 'argoproj-labs/alb';
const RULE_ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';

const table = new ModeTable(
  PLUGIN,
  MODES.map((make) => make(testModeDeps(parseSettings([], {}).settings, offlineKubeConfig(), createElbv2({ region: 'us-west-2', rateLimit: 1, rateBurst: 1 })))),
);

function rollout(plugins: Record<string, unknown> | undefined): Rollout {
  return { metadata: { name: 'r' }, spec: { strategy: { canary: { trafficRouting: plugins ? { plugins } : {} } } } };
}

describe('ModeTable.ofBlock', () => {
  it.each([
    [{ listenerRule: { ruleArn: RULE_ARN } }, 'listener-rule'],
    [{ listenerRule: {} }, 'listener-rule'],
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
    expect(table.ofBlock(block).name).toBe(want);
  });
});

describe('ModeTable.of and usesPlugin', () => {
  it.each([
    ['no plugins', undefined, false, undefined],
    ['another plugin', { 'acme/other': {} }, false, undefined],
    ['this plugin, Ingress mode', { [PLUGIN]: { ingress: 'web', servicePort: 80 } }, true, 'ingress'],
    ['this plugin, an unreadable block', { [PLUGIN]: null }, true, 'ingress'],
    ['this plugin, listener-rule mode', { [PLUGIN]: { listenerRule: { ruleArn: RULE_ARN } } }, true, 'listener-rule'],
    ['this plugin, Gateway mode', { [PLUGIN]: { httpRoute: 'web' } }, true, 'gateway'],
  ] as const)('%s', (_label, plugins, uses, mode) => {
    const r = rollout(plugins as Record<string, unknown> | undefined);
    expect(usesPlugin(r, PLUGIN)).toBe(uses);
    expect(table.of(r)?.name).toBe(mode);
  });
});
