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
    expect(c.routes).toEqual([{ kind: 'HTTPRoute', name: 'shop', namespace: 'apps' }]);
    expect(c.singleRoute).toBe(true);
    expect(c.rule).toEqual({ kind: 'services' });
    expect(c.services).toEqual({ stable: 'shop-stable', canary: 'shop-canary', pingPong: false });
    expect(c.maxWeight).toBe(100);
  });

  it('httpRoutes: names and {name, namespace}; ruleName selects one rule', () => {
    const c = parse({ httpRoutes: ['a', { name: 'b', namespace: 'edge' }], ruleName: 'main' });
    expect(c.routes).toEqual([
      { kind: 'HTTPRoute', name: 'a', namespace: 'apps' },
      { kind: 'HTTPRoute', name: 'b', namespace: 'edge' },
    ]);
    expect(c.singleRoute).toBe(false);
    expect(c.rule).toEqual({ kind: 'name', name: 'main' });
  });

  it('grpcRoute and grpcRoutes name GRPCRoutes, as httpRoute(s) name HTTPRoutes', () => {
    const one = parse({ grpcRoute: 'greeter' });
    expect(one.routes).toEqual([{ kind: 'GRPCRoute', name: 'greeter', namespace: 'apps' }]);
    expect(one.singleRoute).toBe(true);
    const many = parse({ grpcRoutes: ['a', { name: 'b', namespace: 'edge' }], ruleName: 'main' });
    expect(many.routes).toEqual([
      { kind: 'GRPCRoute', name: 'a', namespace: 'apps' },
      { kind: 'GRPCRoute', name: 'b', namespace: 'edge' },
    ]);
    expect(many.rule).toEqual({ kind: 'name', name: 'main' });
  });

  it('an HTTPRoute and a GRPCRoute together (one service over HTTP and gRPC), even of one name: both are driven, HTTPRoutes first', () => {
    const c = parse({ grpcRoutes: ['shop'], httpRoute: 'shop' });
    expect(c.routes).toEqual([
      { kind: 'HTTPRoute', name: 'shop', namespace: 'apps' },
      { kind: 'GRPCRoute', name: 'shop', namespace: 'apps' },
    ]);
    expect(c.singleRoute).toBe(false);
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
    [{ httpRoute: 'shop', ruleName: '' }, `${P}.ruleName: "" is not a Kubernetes name; set it to the name of the route rule to drive (spec.rules[].name)`],
    [{ grpcRoute: 'g', grpcRoutes: ['x'] }, `${P}: both grpcRoute and grpcRoutes are set; keep exactly one (grpcRoutes for several GRPCRoutes)`],
    [{ grpcRoutes: 'g' }, `${P}.grpcRoutes: "g" is not a non-empty list; list GRPCRoute names or {name, namespace} objects`],
    [{ grpcRoutes: ['g', { name: 'g' }] }, `${P}.grpcRoutes[1]: GRPCRoute apps/g is listed twice; list each GRPCRoute once`],
    [{ grpcRoute: 'G' }, `${P}.grpcRoute: "G" is not a Kubernetes name; set it to the GRPCRoute name`],
    [{ grpcRoute: 'g', ingress: 'shop' }, `${P}.ingress: ingress belongs to Ingress mode and cannot be combined with grpcRoute (Gateway mode); a Rollout uses one mode: remove ingress, or remove grpcRoute to use Ingress mode`],
    [{ grpcRoute: 'g', stickinessConfig: { enabled: true } }, `${P}.stickinessConfig: not supported in Gateway mode`],
    [{ httpRoute: 'shop', weights: 1 }, `${P}.weights: unknown field; the fields of Gateway mode are httpRoute, httpRoutes, grpcRoute, grpcRoutes, ruleName`],
  ])('refuses %j', (block, message) => {
    expect(() => parse(block)).toThrow(message);
  });

  it('refuses what every mode refuses, through the core', () => {
    expect(() => parse({ httpRoute: 'shop' }, { canaryService: undefined })).toThrow(
      'spec.strategy.canary.canaryService: Canary service and Stable service must to be set to use Traffic Routing',
    );
  });
});
