// A new term of leadership starts cold (src/sidecar.ts calls each mode cleanup's `reset` before a new watch
// lists every Rollout): nothing remembered from an earlier term is released or retried, since another
// sidecar led in between and did what was due then.
import { describe, expect, it, vi } from 'vitest';
import { RetryingRelease } from '../../src/cleanup/retrying-release.js';
import { IngressCleanup } from '../../src/modes/ingress/cleanup.js';
import type { Releaser } from '../../src/modes/ingress/releaser.js';
import type { CleanupContext } from '../../src/plugin/mode.js';
import { PLUGIN, rollout } from './fixtures.js';

const here: CleanupContext = { placeOf: () => 'here', readable: () => true, seen: () => undefined };

describe('reset: a new leadership term starts cold', () => {
  it('Ingress mode: holds of an earlier term are not released when the Rollout is seen again', async () => {
    const release = vi.fn<Releaser['release']>(async () => 'released');
    const cleanup = new IngressCleanup({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser: { release, idle: async () => {} }, listIngresses: async () => [] });
    await cleanup.changed(rollout({ ingresses: ['app', 'app-internal'] }), undefined, here);
    cleanup.reset();
    // First sight in the new term (the watch lists it): it names only `app` now; `app-internal` was released
    // by the leader in between, so nothing is due.
    expect(await cleanup.changed(rollout({ ingresses: ['app'] }), undefined, here)).toEqual([]);
    expect(release).not.toHaveBeenCalled();
    // Without a reset the same sequence would release it again: what reset prevents.
    await cleanup.changed(rollout({ ingresses: ['app', 'app-internal'] }), undefined, here);
    expect(await cleanup.changed(rollout({ ingresses: ['app'] }), undefined, here)).toEqual(['released']);
  });

  it('listener-rule and Gateway mode: a release that failed in an earlier term is not retried', async () => {
    const run = vi.fn(async () => {
      throw new Error('HTTP 503');
    });
    const releases = new RetryingRelease({ what: 'listener rule', byHand: 'by hand', run });
    const gone = rollout({ plugin: 'elsewhere/router' });
    expect(await releases.deleted(rollout(), undefined, here)).toEqual(['error']);
    expect(releases.pendingReleases()).toEqual(['shop/web']);
    releases.reset();
    expect(releases.pendingReleases()).toEqual([]);
    expect(await releases.sweep({ ...here, read: async () => gone })).toEqual([]);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
