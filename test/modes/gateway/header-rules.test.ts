// Header-route rule names and ownership when Rollouts of one name in two namespaces share an HTTPRoute (issue #21):
// each gets its own rule, and a rule it did not add is refused, never taken over.
import { describe, expect, it } from 'vitest';
import { headerRouteMatches } from '../../../src/core/routes.js';
import type { Rollout } from '../../../src/core/rollout.js';
import { parseGatewayConfig } from '../../../src/modes/gateway/config.js';
import { applyJsonPatch } from '../../../src/modes/gateway/json-patch.js';
import { headerRuleName, planHeaderRoute } from '../../../src/modes/gateway/route/header-rules.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';

const PLUGIN = 'argoproj-labs/alb';

function rollout(namespace: string): Rollout {
  return {
    metadata: { name: 'shop', namespace, uid: `u-${namespace}` },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { [PLUGIN]: { httpRoute: { name: 'shared', namespace: 'edge' } } }, managedRoutes: [{ name: 'beta' }] },
        },
      },
    },
  };
}

function sharedRoute(): HTTPRoute {
  const backends = (ns: string) => [
    { name: 'shop-stable', namespace: ns, port: 80 },
    { name: 'shop-canary', namespace: ns, port: 80, weight: 0 },
  ];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'shared', namespace: 'edge', resourceVersion: '1' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        { name: 'a', matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: backends('team-a') },
        { name: 'b', matches: [{ path: { type: 'PathPrefix', value: '/b' } }], backendRefs: backends('team-b') },
      ],
    },
  };
}

describe('header-route rule names', () => {
  it.each([
    ['a Rollout in the route\'s namespace keeps the short name', 'edge', 'argo-shop-beta'],
    ['a Rollout in another namespace has it in the name', 'team-a', 'argo-team-a-shop-beta'],
  ])('%s', (_n, ns, name) => {
    expect(headerRuleName({ rolloutName: 'shop', namespace: ns }, 'edge', 'beta', 0)).toBe(name);
  });

  it('two Rollouts named shop in two namespaces sharing a route each get their own header rule', () => {
    const route = sharedRoute();
    const ref = { kind: 'HTTPRoute' as const, name: 'shared', namespace: 'edge' };
    const matches = headerRouteMatches({ name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] }, ['beta']);
    for (const ns of ['team-a', 'team-b']) {
      const config = parseGatewayConfig(rollout(ns), PLUGIN);
      // Each Rollout drives the rule whose backendRefs are its own Services.
      const plan = planHeaderRoute(route, ref, config, 'beta', matches);
      applyJsonPatch(route, plan.ops);
      route.metadata.resourceVersion = String(Number(route.metadata.resourceVersion) + 1);
    }
    expect(route.spec.rules!.map((r) => r.name)).toEqual(['a', 'b', 'argo-team-a-shop-beta', 'argo-team-b-shop-beta']);
    // Each one's canary is its own namespace's Service.
    expect(route.spec.rules!.slice(2).map((r) => r.backendRefs)).toEqual([
      [{ name: 'shop-canary', namespace: 'team-a', port: 80, weight: 100 }],
      [{ name: 'shop-canary', namespace: 'team-b', port: 80, weight: 100 }],
    ]);
  });
});
