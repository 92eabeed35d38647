// The mode router over the sidecar's own mode list (src/modes/index.ts: the modes' real claims, in their
// order), each mode's router replaced by a recorder.
import { describe, expect, it } from 'vitest';
import { createElbv2 } from '../../src/aws/elbv2.js';
import type { Rollout } from '../../src/core/rollout.js';
import { MODES } from '../../src/modes/index.js';
import { createModeRouter } from '../../src/plugin/mode-router.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import { RpcVerified, type TrafficRouter } from '../../src/plugin/router.js';
import { parseSettings } from '../../src/settings.js';
import { offlineKubeConfig, testModeDeps } from '../support/mode-deps.js';

const PLUGIN = 'argoproj-labs/alb';

function recorder(label: string, calls: string[]): TrafficRouter {
  const note = (m: string) => async (): Promise<void> => {
    calls.push(`${label}.${m}`);
  };
  return {
    initPlugin: note('initPlugin'),
    type: () => 'ALB',
    updateHash: note('updateHash'),
    setWeight: note('setWeight'),
    verifyWeight: async () => {
      calls.push(`${label}.verifyWeight`);
      return { verified: RpcVerified.Verified };
    },
    setHeaderRoute: note('setHeaderRoute'),
    setMirrorRoute: note('setMirrorRoute'),
    removeManagedRoutes: note('removeManagedRoutes'),
  };
}

function rollout(block: unknown): Rollout {
  return {
    metadata: { name: 'ro', namespace: 'default' },
    spec: { strategy: { canary: { trafficRouting: { plugins: { [PLUGIN]: block } } } } },
  };
}

/** The sidecar's modes, each routing to a recorder named after it. */
function routerOverModes(calls: string[]): TrafficRouter {
  const deps = testModeDeps(parseSettings([], {}).settings, offlineKubeConfig(), createElbv2({ region: 'us-west-2', rateLimit: 1, rateBurst: 1 }));
  const modes = MODES.map((make) => make(deps)).map((m) => ({ ...m, router: recorder(m.name, calls) }));
  return createModeRouter(new ModeTable(PLUGIN, modes));
}

describe('mode router', () => {
  it.each([
    ['an ingress block', { ingress: 'web', servicePort: 80 }, 'ingress'],
    ['an ingresses block', { ingresses: ['a', 'b'], servicePort: 80 }, 'ingress'],
    ['no block at all (the Ingress router reports the missing config)', undefined, 'ingress'],
    ['a listenerRule block', { listenerRule: { ruleArn: 'arn:aws:elasticloadbalancing:r' } }, 'listener-rule'],
    ['a block naming fields of two modes (Gateway mode\'s parser refuses it)', { httpRoute: 'web', ingress: 'web' }, 'gateway'],
    ['a block that is not an object (Ingress mode\'s parser refuses it)', 'web', 'ingress'],
    ['an httpRoute block', { httpRoute: 'web' }, 'gateway'],
    ['an httpRoutes block', { httpRoutes: ['web'] }, 'gateway'],
  ])('sends every verb for %s to the %s router', async (_name, block, expected) => {
    const calls: string[] = [];
    const router = routerOverModes(calls);
    const ro = rollout(block);
    await router.setWeight(ro, 10, []);
    await router.updateHash(ro, 'a', 'b', []);
    expect(await router.verifyWeight(ro, 10, [])).toEqual({ verified: RpcVerified.Verified });
    await router.setHeaderRoute(ro, { name: 'r' });
    await router.setMirrorRoute(ro, { name: 'm' });
    await router.removeManagedRoutes(ro);
    expect(calls).toEqual(
      ['setWeight', 'updateHash', 'verifyWeight', 'setHeaderRoute', 'setMirrorRoute', 'removeManagedRoutes'].map((m) => `${expected}.${m}`),
    );
  });

  it('initialises every router once per session', async () => {
    const calls: string[] = [];
    const router = routerOverModes(calls);
    await router.initPlugin();
    expect(calls).toEqual(['gateway.initPlugin', 'listener-rule.initPlugin', 'ingress.initPlugin']);
  });
});
