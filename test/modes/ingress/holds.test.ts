import { describe, expect, it } from 'vitest';
import { builtInAlbIngresses, droppedHolds, holdsOf as holdsIn, type Hold, type Holds } from '../../../src/modes/ingress/holds.js';
import { inferTarget } from '../../../src/modes/ingress/release.js';
import { rolloutId, type Rollout } from '../../../src/core/rollout.js';
import { fwd, ingress, MANAGED, P, path, PLUGIN, rollout } from '../../cleanup/fixtures.js';
import { testModeTable } from '../../support/cleanup.js';

// Where a Rollout is, as the cleanup controller answers it (the modes' own claims, src/plugin/mode-table.ts).
const table = testModeTable(PLUGIN, {});
const holdsOf = (r: Rollout, plugin: string): Holds =>
  holdsIn(r, plugin, (x) => {
    const m = table.of(x);
    return m === undefined ? 'none' : m.name === 'ingress' ? 'here' : 'elsewhere';
  });

const key = (s: string) => `${P}/actions.${s}`;
const cond = (s: string) => `${P}/conditions.${s}`;
const hold = (ing: string, stable: string, port: number, actionService: string): Hold => ({
  ingress: ing,
  target: { rolloutName: 'web', stableService: stable, servicePort: port, actionKey: key(actionService) },
});

function listenerRuleRollout(listenerRule: unknown): Rollout {
  const r = rollout();
  r.spec.strategy.canary!.trafficRouting!.plugins = {
    [PLUGIN]: { listenerRule, stableTargetGroup: { targetGroupBinding: 'a' }, canaryTargetGroup: { targetGroupBinding: 'b' } },
  };
  return r;
}

function gatewayRollout(block: Record<string, unknown>): Rollout {
  const r = rollout();
  r.spec.strategy.canary!.trafficRouting!.plugins = { [PLUGIN]: block };
  return r;
}

describe('holdsOf', () => {
  it.each<[string, Rollout, Holds]>([
    ['plain', rollout(), { kind: 'holds', holds: [hold('app', 'app-stable', 80, 'app-stable')] }],
    [
      'per-Ingress ports',
      rollout({ ingresses: ['app', { name: 'internal', servicePort: 8443 }] }),
      { kind: 'holds', holds: [hold('app', 'app-stable', 80, 'app-stable'), hold('internal', 'app-stable', 8443, 'app-stable')] },
    ],
    ['rootService', rollout({ rootService: 'root' }), { kind: 'holds', holds: [hold('app', 'app-stable', 80, 'root')] }],
    ['ping-pong, ping stable', rollout({ rootService: 'root', pingPong: true, stablePingPong: 'ping' }), { kind: 'holds', holds: [hold('app', 'app-ping', 80, 'root')] }],
    ['ping-pong, before the first promotion', rollout({ rootService: 'root', pingPong: true }), { kind: 'holds', holds: [hold('app', 'app-pong', 80, 'root')] }],
    ['another plugin', rollout({ plugin: 'other/router' }), { kind: 'none' }],
    ['listener-rule mode', listenerRuleRollout({ ruleArn: 'arn:aws:elasticloadbalancing:us-west-2:1:listener-rule/app/a/b/c/d' }), { kind: 'elsewhere' }],
    // Still listener-rule mode: never mistaken for an unreadable Ingress-mode block.
    ['listener-rule mode with a broken listenerRule', listenerRuleRollout('not an object'), { kind: 'elsewhere' }],
    ['Gateway mode', gatewayRollout({ httpRoute: 'shop' }), { kind: 'elsewhere' }],
    ['Gateway mode, several routes', gatewayRollout({ httpRoutes: ['a', { name: 'b', namespace: 'edge' }] }), { kind: 'elsewhere' }],
    // Still Gateway mode: never mistaken for an unreadable Ingress-mode block.
    ['Gateway mode with a broken httpRoute', gatewayRollout({ httpRoute: 42 }), { kind: 'elsewhere' }],
    ['blue-green', { metadata: { name: 'web' }, spec: { strategy: { blueGreen: {} } } }, { kind: 'none' }],
  ])('%s', (_name, r, want) => {
    expect(holdsOf(r, PLUGIN)).toEqual(want);
  });

  it('says unknown, with the reason, for an unreadable plugin block', () => {
    const r = rollout({ pingPong: true }); // ping-pong without rootService
    const got = holdsOf(r, PLUGIN);
    expect(got.kind).toBe('unknown');
    expect(got.kind === 'unknown' && got.reason).toMatch(/rootService/);
  });
});

describe('droppedHolds', () => {
  const before = [hold('a', 's', 80, 's'), hold('b', 's', 80, 's')];
  it.each<[string, Holds, string[]]>([
    ['one dropped', { kind: 'holds', holds: [hold('a', 's', 80, 's')] }, ['b']],
    ['none dropped', { kind: 'holds', holds: before }, []],
    ['plugin removed', { kind: 'none' }, ['a', 'b']],
    ['unreadable: nothing concluded', { kind: 'unknown', reason: 'x' }, []],
    ['moved to listener-rule mode: names no Ingress', { kind: 'elsewhere' }, ['a', 'b']],
    ['moved to Gateway mode: names no Ingress', { kind: 'elsewhere' }, ['a', 'b']],
  ])('%s', (_n, after, dropped) => {
    expect(droppedHolds(before, after).map((h) => h.ingress)).toEqual(dropped);
  });
});

describe('builtInAlbIngresses', () => {
  it.each<[unknown, string[]]>([
    [{ ingress: 'a', servicePort: 80 }, ['a']],
    [{ ingresses: ['a', 'b'], servicePort: 80 }, ['a', 'b']],
    [undefined, []],
    ['nonsense', []],
  ])('%j → %j', (alb, want) => {
    const r: Rollout = { metadata: { name: 'x' }, spec: { strategy: { canary: { trafficRouting: { alb } } } } };
    expect(builtInAlbIngresses(r)).toEqual(want);
  });
});

describe('inferTarget (Rollout never seen)', () => {
  const ing = (annotations: Record<string, string>) => ingress('app', annotations, [path('x')]);
  it.each<[string, Record<string, string>, ReturnType<typeof inferTarget>]>([
    [
      'stable is the last target group',
      { [key('root')]: fwd(['c', 8080, 30], ['s', 8080, 70]), [MANAGED]: JSON.stringify({ ghost: [key('root')] }) },
      { rolloutName: 'ghost', stableService: 's', servicePort: 8080, actionKey: key('root') },
    ],
    [
      'a header route (action with a conditions twin) is not the main action',
      {
        [key('hdr')]: fwd(['c', 80, 100]),
        [cond('hdr')]: '[]',
        [key('root')]: fwd(['c', 80, 10], ['s', 80, 90]),
        [MANAGED]: JSON.stringify({ ghost: [key('hdr'), cond('hdr'), key('root')] }),
      },
      { rolloutName: 'ghost', stableService: 's', servicePort: 80, actionKey: key('root') },
    ],
    [
      'only header keys: no action to reset, every key goes',
      { [key('hdr')]: fwd(['c', 80, 100]), [cond('hdr')]: '[]', [MANAGED]: JSON.stringify({ ghost: [key('hdr'), cond('hdr')] }) },
      { rolloutName: 'ghost', stableService: '', servicePort: 0, actionKey: '' },
    ],
    ['unreadable action: nothing guessed', { [key('root')]: '{', [MANAGED]: JSON.stringify({ ghost: [key('root')] }) }, undefined],
    ['no entry', { [MANAGED]: JSON.stringify({ other: [key('root')] }) }, undefined],
  ])('%s', (_n, annotations, want) => {
    expect(inferTarget(ing(annotations), 'ghost')).toEqual(want);
  });
});

it('rolloutId defaults the namespace', () => {
  expect(rolloutId(undefined, 'web')).toBe('default/web');
  expect(rolloutId('shop', 'web')).toBe('shop/web');
});
