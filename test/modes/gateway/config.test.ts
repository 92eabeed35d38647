import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../src/modes/gateway/config.js';
import type { Rollout } from '../../../src/core/rollout.js';

const PLUGIN = 'argoproj-labs/alb';
const P = `spec.strategy.canary.trafficRouting.plugins["${PLUGIN}"]`;

function rollout(block: unknown, extra: Record<string, unknown> = {}): Rollout {
  return {
    metadata: { name: 'shop', namespace: 'apps' },
    spec: { strategy: { canary: { stableService: 'shop-stable', canaryService: 'shop-canary', trafficRouting: { plugins: { [PLUGIN]: block } }, ...extra } } },
  };
}

const parse = (block: unknown, extra?: Record<string, unknown>) => parseGatewayConfig(rollout(block, extra), PLUGIN);

describe('Gateway mode configuration', () => {
  it('httpRoute: one route in the Rollout namespace, every rule naming both Services', () => {
    const c = parse({ httpRoute: 'shop' });
    expect(c.routes).toEqual([{ name: 'shop', namespace: 'apps' }]);
    expect(c.singleRoute).toBe(true);
    expect(c.rule).toEqual({ kind: 'services' });
    expect(c.services).toEqual({ stable: 'shop-stable', canary: 'shop-canary', pingPong: false });
    expect(c.maxWeight).toBe(100);
  });

  it('httpRoutes: names and {name, namespace}; ruleName selects one rule', () => {
    const c = parse({ httpRoutes: ['a', { name: 'b', namespace: 'edge' }], ruleName: 'main' });
    expect(c.routes).toEqual([{ name: 'a', namespace: 'apps' }, { name: 'b', namespace: 'edge' }]);
    expect(c.singleRoute).toBe(false);
    expect(c.rule).toEqual({ kind: 'name', name: 'main' });
  });

  it('ping-pong: the roles come from the core', () => {
    const r = rollout({ httpRoute: 'shop' }, { stableService: undefined, canaryService: undefined, pingPong: { pingService: 'ping', pongService: 'pong' } });
    r.status = { canary: { stablePingPong: 'ping' } };
    expect(parseGatewayConfig(r, PLUGIN).services).toEqual({ stable: 'ping', canary: 'pong', pingPong: true, stableRole: 'ping' });
  });

  it.each([
    [{ httpRoute: 'shop', ingress: 'shop' }, `${P}.ingress: ingress belongs to Ingress mode and cannot be combined with httpRoute (Gateway mode); a Rollout uses one mode: remove ingress, or remove httpRoute to use Ingress mode`],
    [{ httpRoutes: ['shop'], ingresses: ['shop'] }, `${P}.ingresses: ingresses belongs to Ingress mode and cannot be combined with httpRoutes (Gateway mode); a Rollout uses one mode: remove ingresses, or remove httpRoutes to use Ingress mode`],
    [{ httpRoute: 'shop', listenerRule: { ruleArn: 'x' } }, `${P}.listenerRule: listenerRule belongs to listener-rule mode and cannot be combined with httpRoute (Gateway mode); a Rollout uses one mode: remove listenerRule, or remove httpRoute to use listener-rule mode`],
    [{ httpRoute: 'shop', servicePort: 80 }, `${P}.servicePort: servicePort belongs to Ingress mode and cannot be combined with httpRoute (Gateway mode); a Rollout uses one mode: remove servicePort, or remove httpRoute to use Ingress mode`],
    [{ httpRoute: 'shop', httpRoutes: ['x'] }, `${P}: both httpRoute and httpRoutes are set; keep exactly one (httpRoutes for several HTTPRoutes)`],
    [{ httpRoutes: [] }, `${P}.httpRoutes: [] is not a non-empty list; list HTTPRoute names or {name, namespace} objects`],
    [{ httpRoutes: ['a', 'a'] }, `${P}.httpRoutes[1]: HTTPRoute apps/a is listed twice; list each HTTPRoute once`],
    [{ httpRoute: 'Shop' }, `${P}.httpRoute: "Shop" is not a Kubernetes name; set it to the HTTPRoute name`],
    [{ httpRoutes: [{ name: 'a', port: 80 }] }, `${P}.httpRoutes[0].port: unknown field; an entry has only name and namespace`],
    [{ httpRoute: 'shop', ruleName: '' }, `${P}.ruleName: "" is not a Kubernetes name; set it to the name of the HTTPRoute rule to drive (spec.rules[].name)`],
    [{ httpRoute: 'shop', grpcRoute: 'g' }, `${P}.grpcRoute: GRPCRoutes are not supported yet; name HTTPRoutes with httpRoute or httpRoutes`],
    [{ httpRoute: 'shop', weights: 1 }, `${P}.weights: unknown field; the fields of Gateway mode are httpRoute, httpRoutes, ruleName`],
  ])('refuses %j', (block, message) => {
    expect(() => parse(block)).toThrow(message);
  });

  it('refuses what every mode refuses, through the core', () => {
    expect(() => parse({ httpRoute: 'shop' }, { canaryService: undefined })).toThrow(
      'spec.strategy.canary.canaryService: Canary service and Stable service must to be set to use Traffic Routing',
    );
  });
});
