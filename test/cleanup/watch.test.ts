// The Rollout watch end to end over HTTP: list, then a watch stream whose DELETED event releases the Ingress,
// and the sweep that runs once the list is complete (nock plays the API server).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import nock from 'nock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../src/logger.js';
import { createIngressClient, listAllIngresses } from '../../src/k8s/ingress-client.js';
import { testCleanup } from '../support/cleanup.js';
import { createReleaser } from '../../src/modes/ingress/releaser.js';
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
    const controller = testCleanup({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser, listIngresses: listAllIngresses(kubeConfig()) }).controller;
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
    const controller = testCleanup({
      pluginName: PLUGIN,
      albIngressClasses: ['alb'],
      releaser,
      listIngresses: async () => {
        sweeps++;
        return [];
      },
    }).controller;
    watch = startRolloutWatch({ kc: kubeConfig(), controller, sweepEveryMs: 3_600_000, retryDelayMs: 10 });
    await watch.sweep();
    expect(sweeps).toBe(0);
    await watch.synced();
    await vi.waitFor(() => expect(sweeps).toBe(1));
    listed.done();
  });
});

// Issue #12 item 9: promises of the watch had no rejection handler, so one failure (a handler that throws,
// client-node's done callback failing to watch again) was an unhandledRejection, which ends a Node process.
describe('Rollout watch failures (issue #12 item 9)', () => {
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  function memoryLogger() {
    const lines: Array<{ msg: string; err?: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { msg: string; err?: string });
        done();
      },
    });
    return { logger: createLogger('warn', stream), lines };
  }

  /** Lets pending rejections surface (Node reports them after the microtask queue drains). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('a handler that fails is logged, later events are still handled, and stop() resolves', async () => {
    const web = rollout();
    const other = rollout({ name: 'other' });
    nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .reply(200, { apiVersion: 'argoproj.io/v1alpha1', kind: 'RolloutList', metadata: { resourceVersion: '500' }, items: [web] });
    const events = [
      { type: 'DELETED', object: { ...web, metadata: { ...web.metadata, resourceVersion: '501' } } },
      { type: 'ADDED', object: { ...other, metadata: { ...other.metadata, resourceVersion: '502' } } },
    ];
    nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .query((q) => q.watch === 'true' && q.resourceVersion === '500')
      .reply(200, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const { logger, lines } = memoryLogger();
    const releaser = createReleaser({ ingresses: createIngressClient(kubeConfig()) });
    // The real controller; what it calls on a deletion (in the sidecar: the event sink) fails.
    const controller = testCleanup({
      pluginName: PLUGIN,
      albIngressClasses: ['alb'],
      releaser,
      onDeleted: () => {
        throw new Error('event sink exploded');
      },
    }).controller;
    watch = startRolloutWatch({ kc: kubeConfig(), controller, logger, sweepEveryMs: 3_600_000, retryDelayMs: 3_600_000 });
    await watch.synced();
    await vi.waitFor(() => expect(controller.get(NS, 'other')).toBeDefined());
    await settle();
    expect(unhandled).toEqual([]);
    expect(lines.find((l) => l.err === 'event sink exploded')?.msg).toMatch(/Rollout handler failed/);
    await expect(watch.stop()).resolves.toBeUndefined();
    watch = undefined;
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('watching again fails (credential plugin down): no unhandled rejection, and the watch retries', async () => {
    // An exec credential plugin (like `aws eks get-token`) that fails on its third run: the list and the
    // first watch get a token; when the first watch stream ends, client-node's done callback asks for a new
    // token to watch again and that call fails. From the fourth run on it works again.
    const dir = mkdtempSync(join(tmpdir(), 'watch-exec-'));
    const counter = join(dir, 'runs');
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      status: { token: 'exec-token', expirationTimestamp: '2000-01-01T00:00:00Z' },
    });
    const script = `n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${counter}'; ` +
      `if [ "$n" -eq 3 ]; then echo 'token service unavailable' >&2; exit 1; fi; echo '${credential}'`;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: API, skipTLSVerify: true }],
      users: [{ name: 'plugin', exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'sh', args: ['-c', script] } }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'plugin' }],
      currentContext: 'fake',
    });
    const web = rollout();
    nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .reply(200, { apiVersion: 'argoproj.io/v1alpha1', kind: 'RolloutList', metadata: { resourceVersion: '500' }, items: [web] });
    const watches = nock(API)
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .query((q) => q.watch === 'true' && q.resourceVersion === '500')
      .reply(200, '') // ends at once: client-node watches again
      .get('/apis/argoproj.io/v1alpha1/rollouts')
      .query((q) => q.watch === 'true' && q.resourceVersion === '500')
      .reply(200, JSON.stringify({ type: 'MODIFIED', object: { ...web, metadata: { ...web.metadata, resourceVersion: '501', labels: { seen: 'again' } } } }) + '\n');
    const { logger, lines } = memoryLogger();
    const releaser = createReleaser({ ingresses: createIngressClient(kubeConfig()) });
    const controller = testCleanup({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser, listIngresses: async () => [] }).controller;
    try {
      watch = startRolloutWatch({ kc, controller, logger, sweepEveryMs: 3_600_000, retryDelayMs: 20 });
      await watch.synced();
      await vi.waitFor(() => expect(controller.get(NS, 'web')?.metadata.labels).toEqual({ seen: 'again' }), { timeout: 10_000 });
      watches.done();
      expect(lines.some((l) => /token service unavailable/.test(l.err ?? ''))).toBe(true);
      await settle();
      expect(unhandled).toEqual([]);
    } finally {
      // The watch may still be running the credential plugin, which writes its counter here: retry a busy removal.
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    }
  });
});
