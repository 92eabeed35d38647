import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/fields.js';
import { parsePluginConfig } from '../../../src/modes/ingress/config.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { makeRollout, PLUGIN } from './fixtures.js';

const P = 'spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"]';

function withCanary(r: Rollout, patch: Record<string, unknown>): Rollout {
  Object.assign(r.spec.strategy.canary!, patch);
  return r;
}

describe('parsePluginConfig: accepted blocks', () => {
  it.each([
    ['single ingress (Argo alb block renamed)', { ingress: 'ing', servicePort: 443 },
      { ingresses: [{ name: 'ing', servicePort: 443 }], singleIngress: true, servicePort: 443, annotationPrefix: 'alb.ingress.kubernetes.io' }],
    ['ingresses as names', { ingresses: ['a', 'b'], servicePort: 80 },
      { ingresses: [{ name: 'a', servicePort: 80 }, { name: 'b', servicePort: 80 }], singleIngress: false, servicePort: 80, annotationPrefix: 'alb.ingress.kubernetes.io' }],
    ['per-Ingress ports (Argo #3551)', { ingresses: ['a', { name: 'b', servicePort: 8443 }], servicePort: 80 },
      { ingresses: [{ name: 'a', servicePort: 80 }, { name: 'b', servicePort: 8443 }], singleIngress: false, servicePort: 80, annotationPrefix: 'alb.ingress.kubernetes.io' }],
    ['servicePort may be left out when every Ingress has one', { ingresses: [{ name: 'a', servicePort: 81 }, { name: 'b', servicePort: 82 }] },
      { ingresses: [{ name: 'a', servicePort: 81 }, { name: 'b', servicePort: 82 }], singleIngress: false, servicePort: 81, annotationPrefix: 'alb.ingress.kubernetes.io' }],
    ['all optional fields', { ingress: 'ing', servicePort: 80, rootService: 'root', annotationPrefix: 'custom.alb', stickinessConfig: { enabled: true, durationSeconds: 3600 } },
      { ingresses: [{ name: 'ing', servicePort: 80 }], singleIngress: true, servicePort: 80, rootService: 'root', annotationPrefix: 'custom.alb', stickinessConfig: { enabled: true, durationSeconds: 3600 } }],
    ['empty prefix and rootService mean the defaults', { ingress: 'ing', servicePort: 80, rootService: '', annotationPrefix: '' },
      { ingresses: [{ name: 'ing', servicePort: 80 }], singleIngress: true, servicePort: 80, annotationPrefix: 'alb.ingress.kubernetes.io' }],
    ['disabled stickiness may have any duration', { ingress: 'ing', servicePort: 80, stickinessConfig: { enabled: false, durationSeconds: 0 } },
      { ingresses: [{ name: 'ing', servicePort: 80 }], singleIngress: true, servicePort: 80, annotationPrefix: 'alb.ingress.kubernetes.io', stickinessConfig: { enabled: false, durationSeconds: 0 } }],
  ])('%s', (_name, plugin, expected) => {
    expect(parsePluginConfig(makeRollout({ plugin }), PLUGIN)).toEqual(expected);
  });

  it('uses the configured plugin name', () => {
    const r = makeRollout();
    r.spec.strategy.canary!.trafficRouting!.plugins = { 'acme/alb': { ingress: 'x', servicePort: 1 } };
    expect(parsePluginConfig(r, 'acme/alb').ingresses).toEqual([{ name: 'x', servicePort: 1 }]);
  });
});

describe('parsePluginConfig: errors name the field and the fix', () => {
  const ok = { ingress: 'ing', servicePort: 80 };
  it.each<[string, Rollout, string, RegExp]>([
    ['plugin block missing', (() => { const r = makeRollout(); r.spec.strategy.canary!.trafficRouting!.plugins = {}; return r; })(), P, /missing; configure the plugin/],
    ['both ingress and ingresses', makeRollout({ plugin: { ingress: 'a', ingresses: ['b'], servicePort: 80 } }), P, /both ingress and ingresses/],
    ['neither ingress nor ingresses', makeRollout({ plugin: { servicePort: 80 } }), P, /neither ingress nor ingresses/],
    ['empty ingresses list', makeRollout({ plugin: { ingresses: [], servicePort: 80 } }), `${P}.ingresses`, /non-empty list/],
    ['duplicate ingress', makeRollout({ plugin: { ingresses: ['a', 'a'], servicePort: 80 } }), `${P}.ingresses[1]`, /listed twice/],
    ['bad ingress entry field', makeRollout({ plugin: { ingresses: [{ name: 'a', port: 1 }], servicePort: 80 } }), `${P}.ingresses[0].port`, /unknown field/],
    ['missing servicePort', makeRollout({ plugin: { ingress: 'a' } }), `${P}.servicePort`, /missing; set it to the Service port/],
    ['servicePort as a string', makeRollout({ plugin: { ingress: 'a', servicePort: '80' } }), `${P}.servicePort`, /"80" is not a port/],
    ['servicePort 0', makeRollout({ plugin: { ingress: 'a', servicePort: 0 } }), `${P}.servicePort`, /not a port/],
    ['per-Ingress port out of range', makeRollout({ plugin: { ingresses: [{ name: 'a', servicePort: 70000 }] } }), `${P}.ingresses[0].servicePort`, /not a port/],
    ['unknown field (typo)', makeRollout({ plugin: { ...ok, servicePorts: [80] } }), `${P}.servicePorts`, /unknown field; the fields are ingress, ingresses, servicePort/],
    ['stickiness duration 0', makeRollout({ plugin: { ...ok, stickinessConfig: { enabled: true, durationSeconds: 0 } } }), `${P}.stickinessConfig.durationSeconds`,
      /TargetGroupStickinessConfig's duration must be between 1 and 604800 seconds \(7 days\)!/],
    ['stickiness duration 604801', makeRollout({ plugin: { ...ok, stickinessConfig: { enabled: true, durationSeconds: 604801 } } }), `${P}.stickinessConfig.durationSeconds`,
      /between 1 and 604800/],
    ['stickiness enabled not a boolean', makeRollout({ plugin: { ...ok, stickinessConfig: { enabled: 'yes', durationSeconds: 5 } } }), `${P}.stickinessConfig.enabled`, /true or false/],
    ['annotationPrefix with a slash', makeRollout({ plugin: { ...ok, annotationPrefix: 'a/b' } }), `${P}.annotationPrefix`, /not an annotation prefix/],
    ['stableService missing', makeRollout({ plugin: ok, stable: '' }), 'spec.strategy.canary.stableService', /Canary service and Stable service must to be set/],
    ['canaryService missing', makeRollout({ plugin: ok, canary: '' }), 'spec.strategy.canary.canaryService', /Canary service and Stable service must to be set/],
    ['same stable and canary', makeRollout({ plugin: ok, stable: 's', canary: 's' }), 'spec.strategy.canary.stableService', /two different services are required/],
    ['ping-pong without rootService', makeRollout({ plugin: ok, pingPong: { pingService: 'ping', pongService: 'pong' } }), `${P}.rootService`, /required with ping-pong/],
    ['ping-pong with a missing pong', makeRollout({ plugin: { ...ok, rootService: 'r' }, pingPong: { pingService: 'ping', pongService: '' } }), 'spec.strategy.canary.pingPong.pongService', /must to be set/],
    ['ping-pong with one service twice', makeRollout({ plugin: { ...ok, rootService: 'r' }, pingPong: { pingService: 'p', pongService: 'p' } }), 'spec.strategy.canary.pingPong.pingService', /two different Services/],
    ['maxTrafficWeight 1000', makeRollout({ plugin: ok, maxTrafficWeight: 1000 }), 'spec.strategy.canary.trafficRouting.maxTrafficWeight', /from 1 to 999/],
    ['maxTrafficWeight 0', makeRollout({ plugin: ok, maxTrafficWeight: 0 }), 'spec.strategy.canary.trafficRouting.maxTrafficWeight', /from 1 to 999/],
    ['header step without managedRoutes', makeRollout({ plugin: ok, steps: [{ setHeaderRoute: { name: 'r', match: [{ headerName: 'h', headerValue: { exact: 'v' } }] } }] }),
      'spec.strategy.canary.trafficRouting.managedRoutes', /missing/],
    ['header step route not managed', makeRollout({ plugin: ok, managedRoutes: ['x'], steps: [{ setHeaderRoute: { name: 'r' } }] }),
      'spec.strategy.canary.steps[0].setHeaderRoute', /not in spec.strategy.canary.trafficRouting.managedRoutes/],
    ['header match without value', makeRollout({ plugin: ok, managedRoutes: ['r'], steps: [{ setHeaderRoute: { name: 'r', match: [{ headerName: 'h' }] } }] }),
      'spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue', /StringMatch value missed/],
    ['header match with regex', makeRollout({ plugin: ok, managedRoutes: ['r'], steps: [{ setHeaderRoute: { name: 'r', match: [{ headerName: 'h', headerValue: { regex: 'a.*' } }] } }] }),
      'spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue.regex', /not supported by ALB/],
    ['header match with two kinds', makeRollout({ plugin: ok, managedRoutes: ['r'], steps: [{ setHeaderRoute: { name: 'r', match: [{ headerName: 'h', headerValue: { exact: 'a', prefix: 'b' } }] } }] }),
      'spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue', /exactly one of exact or prefix/],
    ['managed route named like the action', makeRollout({ plugin: ok, managedRoutes: ['stable-svc'] }),
      'spec.strategy.canary.trafficRouting.managedRoutes[0].name', /also the action service/],
    ['a listener-rule mode block', makeRollout({ plugin: { listenerRule: { listenerArn: 'arn' } } }), `${P}.listenerRule`, /uses listener-rule mode/],
    ['blue-green strategy', (() => { const r = makeRollout(); r.spec.strategy = { blueGreen: {} }; return r; })(), 'spec.strategy.canary', /canary strategy only/],
  ])('%s', (_name, rollout, field, message) => {
    let caught: unknown;
    try {
      parsePluginConfig(rollout, PLUGIN);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe(field);
    expect((caught as ConfigError).message.startsWith(`${field}: `)).toBe(true);
    expect((caught as ConfigError).message).toMatch(message);
  });

  it('accepts ping-pong with rootService and no stable/canary services', () => {
    const r = makeRollout({ plugin: { ...ok, rootService: 'root' }, pingPong: { pingService: 'ping', pongService: 'pong' } });
    expect(parsePluginConfig(r, PLUGIN).rootService).toBe('root');
  });

  it('accepts prefix header matches (translated to ALB wildcards later)', () => {
    const r = makeRollout({ plugin: ok, managedRoutes: ['r'], steps: [{ setHeaderRoute: { name: 'r', match: [{ headerName: 'h', headerValue: { prefix: 'Chr' } }] } }] });
    expect(() => parsePluginConfig(r, PLUGIN)).not.toThrow();
  });

  it('maxTrafficWeight up to 999 is allowed', () => {
    expect(() => parsePluginConfig(withCanary(makeRollout({ plugin: ok }), {}), PLUGIN)).not.toThrow();
    expect(() => parsePluginConfig(makeRollout({ plugin: ok, maxTrafficWeight: 999 }), PLUGIN)).not.toThrow();
  });
});
