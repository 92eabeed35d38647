import { describe, expect, it } from 'vitest';
import { serviceRoles } from '../../src/core/services.js';
import { parsePluginConfig } from '../../src/modes/ingress/config.js';
import { effectiveServices } from '../../src/modes/ingress/view.js';
import { makeRollout, PLUGIN } from '../modes/ingress/fixtures.js';

const pingPong = { pingService: 'ping-svc', pongService: 'pong-svc' };

// The roles every mode reads, and the backend Ingress mode rewrites (`action`).
describe('serviceRoles (spec §5, Argo GetStableAndCanaryServices with ALB preferring ping-pong)', () => {
  it.each([
    ['no ping-pong', { stable: 's', canary: 'c' }, { stable: 's', canary: 'c', pingPong: false }, 's'],
    ['no ping-pong with rootService', { stable: 's', canary: 'c', plugin: { ingress: 'i', servicePort: 80, rootService: 'root' } },
      { stable: 's', canary: 'c', pingPong: false }, 'root'],
    ['ping-pong, empty status: pong is stable', { pingPong, plugin: { ingress: 'i', servicePort: 80, rootService: 'root' } },
      { stable: 'pong-svc', canary: 'ping-svc', pingPong: true, stableRole: 'pong' }, 'root'],
    ['ping-pong, "ping": ping is stable', { pingPong, stablePingPong: 'ping', plugin: { ingress: 'i', servicePort: 80, rootService: 'root' } },
      { stable: 'ping-svc', canary: 'pong-svc', pingPong: true, stableRole: 'ping' }, 'root'],
    ['ping-pong, "pong": pong is stable', { pingPong, stablePingPong: 'pong', plugin: { ingress: 'i', servicePort: 80, rootService: 'root' } },
      { stable: 'pong-svc', canary: 'ping-svc', pingPong: true, stableRole: 'pong' }, 'root'],
    // Argo's own unit test puts a Service name here; only the exact role "ping" counts.
    ['ping-pong, a Service name in the status counts as pong', { pingPong, stablePingPong: 'ping-svc', plugin: { ingress: 'i', servicePort: 80, rootService: 'root' } },
      { stable: 'pong-svc', canary: 'ping-svc', pingPong: true, stableRole: 'pong' }, 'root'],
  ])('%s', (_name, opts, expected, action) => {
    const rollout = makeRollout(opts);
    expect(serviceRoles(rollout)).toEqual(expected);
    expect(effectiveServices(rollout, parsePluginConfig(rollout, PLUGIN))).toEqual({ ...expected, action });
  });

  it('with ping-pong and stable/canary both set, ALB still uses ping/pong (#3628)', () => {
    const rollout = makeRollout({ pingPong, stablePingPong: 'ping', plugin: { ingress: 'i', servicePort: 80, rootService: 'root' } });
    Object.assign(rollout.spec.strategy.canary!, { stableService: 's', canaryService: 'c' });
    expect(effectiveServices(rollout, parsePluginConfig(rollout, PLUGIN))).toEqual({
      stable: 'ping-svc',
      canary: 'pong-svc',
      action: 'root',
      pingPong: true,
      stableRole: 'ping',
    });
  });
});
