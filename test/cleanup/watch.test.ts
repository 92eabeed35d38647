// The Rollout watch end to end over HTTP: list, then a watch stream whose DELETED event releases the Ingress,
// and the sweep that runs once the list is complete (nock plays the API server).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import nock from 'nock';
import { createIngressClient } from '../../src/k8s/ingress-client.js';
import { CleanupController } from '../../src/cleanup/controller.js';
import { createReleaser } from '../../src/cleanup/releaser.js';
import { startRolloutWatch, type RolloutWatch } from '../../src/cleanup/watch.js';
import { API, fakeIngressApi, fwd, ingress, kubeConfig, MANAGED, NS, P, path, PLUGIN, rollout } from './fixtures.js';

let watch: RolloutWatch | undefined;
beforeEach(() => nock.disableNetConnect());
afterEach(async () => {
  await watch?.stop();
  watch = undefined;
  nock.cleanAll();
  nock.enableNetConnect();
});

const KEY = `${P}/actions.app-stable`;

describe('Rollout watch', () => {
  it('lists, sweeps, and releases the Ingress of a Rollout deleted through the watch', async () => {
    const web = rollout();
    const ghostEntry = { [`${P}/actions.ghost-stable`]: fwd(['ghost-canary', 80, 50], ['ghost-stable', 80, 50]) };
    const app = ingress('app', { [KEY]: fwd(['app-canary', 80, 30], ['app-stable', 80, 70]), [MANAGED]: JSON.stringify({ web: [KEY] }) }, [path('app-stable')]);
    const ghostly = ingress('ghostly', { ...ghostEntry, [MANAGED]: JSON.stringify({ ghost: [`${P}/actions.ghost-stable`] }) }, [path('ghost-stable')]);
    const api = fakeIngressApi([app, ghostly]);
    const lists = nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .reply(200, { apiVersion: 'argoproj.io/v1alpha1', kind: 'RolloutList', metadata: { resourceVersion: '500' }, items: [web] })
      .get('/apis/networking.k8s.io/v1/ingresses')
      .reply(200, { apiVersion: 'networking.k8s.io/v1', kind: 'IngressList', metadata: {}, items: [app, ghostly] });
    const deletedWeb = { ...web, metadata: { ...web.metadata, resourceVersion: '501' } };
    const stream = nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .query((q) => q.watch === 'true' && q.resourceVersion === '500')
      .reply(200, JSON.stringify({ type: 'DELETED', object: deletedWeb }) + '\n');

    const releaser = createReleaser({ ingresses: createIngressClient(kubeConfig()) });
    const controller = new CleanupController({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser });
    watch = startRolloutWatch({ kc: kubeConfig(), controller, sweepEveryMs: 3_600_000, retryDelayMs: 3_600_000 });
    await watch.synced();
    expect(watch.isSynced()).toBe(true);

    await vi.waitFor(() => {
      expect(api.current('app')!.metadata.annotations).toEqual({ [KEY]: fwd(['app-stable', 80, 100]) });
      expect(api.current('ghostly')!.metadata.annotations).toEqual({ [`${P}/actions.ghost-stable`]: fwd(['ghost-stable', 80, 100]) });
    });
    lists.done();
    stream.done();
    await releaser.idle();
    expect(controller.get(NS, 'web')).toBeUndefined();
    expect(api.patches.map((p) => p.ingress).sort()).toEqual(['app', 'ghostly']);
  });

  it('does not sweep before the first list succeeds, and lists again after a failure', async () => {
    const listed = nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .reply(403, { kind: 'Status', code: 403, message: 'rollouts.argoproj.io is forbidden' })
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .reply(200, { apiVersion: 'argoproj.io/v1alpha1', kind: 'RolloutList', metadata: { resourceVersion: '9' }, items: [] });
    let sweeps = 0;
    const releaser = createReleaser({ ingresses: createIngressClient(kubeConfig()) });
    const controller = new CleanupController({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser });
    watch = startRolloutWatch({
      kc: kubeConfig(),
      controller,
      sweepEveryMs: 3_600_000,
      retryDelayMs: 10,
      listIngresses: async () => {
        sweeps++;
        return [];
      },
    });
    await watch.sweep();
    expect(sweeps).toBe(0);
    await watch.synced();
    await vi.waitFor(() => expect(sweeps).toBe(1));
    listed.done();
  });
});
