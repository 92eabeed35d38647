import { describe, expect, it } from 'vitest';
import { createModeRouter } from '../../src/plugin/mode-router.js';
import type { Rollout } from '../../src/core/rollout.js';
import { RpcVerified, type TrafficRouter } from '../../src/plugin/router.js';

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

describe('mode router', () => {
  it.each([
    ['an ingress block', { ingress: 'web', servicePort: 80 }, 'ingress'],
    ['an ingresses block', { ingresses: ['a', 'b'], servicePort: 80 }, 'ingress'],
    ['no block at all (the Ingress router reports the missing config)', undefined, 'ingress'],
    ['a listenerRule block', { listenerRule: { ruleArn: 'arn:aws:elasticloadbalancing:r' } }, 'rule'],
    ['an httpRoute block', { httpRoute: 'web' }, 'gateway'],
    ['an httpRoutes block', { httpRoutes: ['web'] }, 'gateway'],
  ])('sends every verb for %s to the %s router', async (_name, block, expected) => {
    const calls: string[] = [];
    const router = createModeRouter({
      pluginName: PLUGIN,
      ingress: recorder('ingress', calls),
      listenerRule: recorder('rule', calls),
      gateway: recorder('gateway', calls),
    });
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

  it('refuses a listener-rule Rollout with an error naming the field when no AWS client exists', async () => {
    const calls: string[] = [];
    const router = createModeRouter({ pluginName: PLUGIN, ingress: recorder('ingress', calls) });
    const ro = rollout({ listenerRule: { ruleArn: 'arn:x' } });
    await expect(router.setWeight(ro, 10, [])).rejects.toThrow(/plugins\["argoproj-labs\/alb"\]\.listenerRule: .*AWS region/);
    expect(await router.verifyWeight(ro, 10, [])).toMatchObject({ verified: RpcVerified.NotVerified, err: expect.stringContaining('listenerRule') });
    expect(calls).toEqual([]);
  });

  it('refuses a Gateway-mode Rollout with an error naming the field when no Gateway router exists', async () => {
    const calls: string[] = [];
    const router = createModeRouter({ pluginName: PLUGIN, ingress: recorder('ingress', calls), listenerRule: recorder('rule', calls) });
    const ro = rollout({ httpRoute: 'web' });
    await expect(router.setWeight(ro, 10, [])).rejects.toThrow(/plugins\["argoproj-labs\/alb"\]\.httpRoute: Gateway mode needs .*Kubernetes API/);
    expect(await router.verifyWeight(ro, 10, [])).toMatchObject({ verified: RpcVerified.NotVerified, err: expect.stringContaining('httpRoute') });
    expect(calls).toEqual([]);
  });

  it('initialises every router once per session', async () => {
    const calls: string[] = [];
    const router = createModeRouter({
      pluginName: PLUGIN,
      ingress: recorder('ingress', calls),
      listenerRule: recorder('rule', calls),
      gateway: recorder('gateway', calls),
    });
    await router.initPlugin();
    expect(calls).toEqual(['ingress.initPlugin', 'rule.initPlugin', 'gateway.initPlugin']);
  });

  it('initialises both routers once per session', async () => {
    const calls: string[] = [];
    const router = createModeRouter({ pluginName: PLUGIN, ingress: recorder('ingress', calls), listenerRule: recorder('rule', calls) });
    await router.initPlugin();
    expect(calls).toEqual(['ingress.initPlugin', 'rule.initPlugin']);
  });
});
