// Argo's e2e expectations (test/e2e/aws_test.go, spec §9.4) replayed through the router against a stateful
// stand-in for the API server, reading the results back from the stored Ingresses.
import { beforeAll, describe, expect, it } from 'vitest';
import { createIngressClient } from '../../../src/k8s/ingress-client.js';
import { parseForwardAction } from '../../../src/modes/ingress/action.js';
import { createIngressRouter } from '../../../src/modes/ingress/router.js';
import { FakeIngressStore, fakeKubeConfig, useNockedApiServer } from '../../k8s/fake-cluster.js';
import { makeIngress, makeRollout, PLUGIN, PREFIX } from './fixtures.js';

let base: string;
const apiServer = useNockedApiServer();
beforeAll(() => {
  base = apiServer();
});

const router = () => createIngressRouter({ ingresses: createIngressClient(fakeKubeConfig(base)), pluginName: PLUGIN, albIngressClasses: ['alb'] });

/** Service → weight, in the order written. */
function weights(store: FakeIngressStore, key: string): Array<[string, number]> {
  return parseForwardAction(store.ingress.metadata.annotations?.[key])!.targetGroups.map((t) => [t.serviceName, t.weight]);
}

describe('Argo e2e expectations', () => {
  it('ping-pong across two Ingresses: 100/0 → 75/25 → 0/100 → 25/75 → 100/0 (ping/pong)', async () => {
    const stores = ['ing-a', 'ing-b'].map((n) => new FakeIngressStore(base, makeIngress({ name: n, actionService: 'root' })));
    stores.forEach((s) => s.intercept({ gets: 5, patches: 5 }));
    const r = router();
    const key = `${PREFIX}/actions.root`;
    const steps: Array<[string, number, Array<[string, number]>]> = [
      ['ping', 0, [['pong', 0], ['ping', 100]]], // first promotion made ping stable
      ['ping', 25, [['pong', 25], ['ping', 75]]], // update: canary traffic to pong
      ['pong', 0, [['ping', 0], ['pong', 100]]], // promoted: pong stable, no selector moved
      ['pong', 25, [['ping', 25], ['pong', 75]]],
      ['ping', 0, [['pong', 0], ['ping', 100]]],
    ];
    for (const [stable, weight, expected] of steps) {
      const rollout = makeRollout({
        plugin: { ingresses: ['ing-a', 'ing-b'], servicePort: 80, rootService: 'root' },
        pingPong: { pingService: 'ping', pongService: 'pong' },
        stablePingPong: stable,
      });
      await r.setWeight(rollout, weight, []);
      for (const s of stores) expect(weights(s, key)).toEqual(expected);
    }
  });

  it('experiments: setWeight 10 with one template at 20 gives 10 / 20 / 70', async () => {
    const store = new FakeIngressStore(base, makeIngress());
    store.intercept({ gets: 1, patches: 1 });
    await router().setWeight(makeRollout(), 10, [{ serviceName: 'exp-svc', weight: 20 }]);
    expect(weights(store, `${PREFIX}/actions.stable-svc`)).toEqual([['canary-svc', 10], ['exp-svc', 20], ['stable-svc', 70]]);
  });

  it('header route: action1 stays at 20/80 while header-route sends everything to the canary, then it is gone', async () => {
    const store = new FakeIngressStore(base, makeIngress({ actionService: 'action1' }));
    store.intercept({ gets: 3, patches: 3 });
    const rollout = makeRollout({
      stable: 'stable-service',
      canary: 'canary-service',
      plugin: { ingress: 'ingress', servicePort: 80, rootService: 'action1' },
      managedRoutes: ['header-route'],
    });
    const r = router();
    const routeKey = `${PREFIX}/actions.header-route`;
    await r.setWeight(rollout, 20, []);
    expect(store.ingress.metadata.annotations?.[routeKey]).toBeUndefined();
    await r.setHeaderRoute(rollout, { name: 'header-route', match: [{ headerName: 'Custom-Header', headerValue: { exact: 'Mozilla*' } }] });
    expect(weights(store, routeKey)).toEqual([['canary-service', 100]]);
    expect(weights(store, `${PREFIX}/actions.action1`)).toEqual([['canary-service', 20], ['stable-service', 80]]);
    expect(store.ingress.metadata.annotations?.[`${PREFIX}/conditions.header-route`]).toBe(
      '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Custom-Header","values":["Mozilla*"]}}]',
    );
    await r.setHeaderRoute(rollout, { name: 'header-route' });
    expect(store.ingress.metadata.annotations?.[routeKey]).toBeUndefined();
    expect(store.ingress.spec?.rules?.[0]?.http?.paths.map((p) => p.backend.service?.name)).toEqual(['action1']);
  });
});
