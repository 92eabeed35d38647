import { describe, expect, it } from 'vitest';
import { applyIngressEdit, type Ingress } from '../../../src/k8s/ingress.js';
import { ManagedAnnotationsError } from '../../../src/modes/ingress/managed.js';
import { planRemoveManagedRoutes, planSetHeaderRoute, planSetWeight } from '../../../src/modes/ingress/plans.js';
import type { SetHeaderRoute, WeightDestination } from '../../../src/core/rollout.js';
import { rolloutContext, weightRequest } from '../../../src/modes/ingress/view.js';
import { WeightError } from '../../../src/core/weights.js';
import { desiredForwardAction, desiredTargetGroups } from '../../../src/modes/ingress/weights.js';
import { action, makeIngress, makeRollout, MANAGED, PLUGIN, PREFIX, type RolloutOptions } from './fixtures.js';

function setWeight(ing: Ingress, weight: number, opts: RolloutOptions = {}, extra: WeightDestination[] = []) {
  const rollout = makeRollout(opts);
  const req = weightRequest(rollout, PLUGIN, weight, extra);
  const target = req.config.ingresses[0]!;
  return planSetWeight(ing, rolloutContext(rollout, PLUGIN), desiredForwardAction(req, target));
}

const ACTION = `${PREFIX}/actions.stable-svc`;

describe('desired weights', () => {
  const target = { name: 'ingress', servicePort: 443 };
  it.each<[string, number, WeightDestination[], number | undefined, Array<[string, number]>]>([
    ['canary 0', 0, [], undefined, [['canary-svc', 0], ['stable-svc', 100]]],
    ['canary 100', 100, [], undefined, [['canary-svc', 100], ['stable-svc', 0]]],
    ['experiments after canary, stable last', 10, [{ serviceName: 'ex-svc-1', weight: 2 }, { serviceName: 'ex-svc-2', weight: 3 }], undefined,
      [['canary-svc', 10], ['ex-svc-1', 2], ['ex-svc-2', 3], ['stable-svc', 85]]],
    ['e2e: no setWeight, two templates at 20', 0, [{ serviceName: 'e1', weight: 20 }, { serviceName: 'e2', weight: 20 }], undefined,
      [['canary-svc', 0], ['e1', 20], ['e2', 20], ['stable-svc', 60]]],
    ['maxTrafficWeight 999', 333, [], 999, [['canary-svc', 333], ['stable-svc', 666]]],
  ])('%s', (_name, weight, extra, max, expected) => {
    const req = weightRequest(makeRollout(max ? { maxTrafficWeight: max } : {}), PLUGIN, weight, extra);
    expect(desiredTargetGroups(req, target).map((t) => [t.serviceName, t.weight])).toEqual(expected);
  });

  it.each<[string, number, WeightDestination[], number | undefined, RegExp]>([
    ['stable would be negative', 90, [{ serviceName: 'e', weight: 20 }], undefined, /canary 90 plus experiments 20 exceed the total 100; stable would get -10/],
    ['canary above maxTrafficWeight', 101, [], undefined, /canary weight 101 is out of range; it must be a whole number from 0 to 100/],
    ['canary above 999', 1000, [], 999, /from 0 to 999/],
    ['negative canary', -1, [], undefined, /canary weight -1 is out of range/],
    ['fractional canary', 2.5, [], undefined, /canary weight 2.5 is out of range/],
    ['more than 5 target groups', 0, ['a', 'b', 'c', 'd'].map((s) => ({ serviceName: s, weight: 1 })), undefined, /6 target groups requested .* ALB forwards to at most 5/],
    ['experiment weight above 999', 0, [{ serviceName: 'e', weight: 1000 }], 999, /experiment e weight 1000 is out of range/],
    ['experiment without a Service', 0, [{ serviceName: '', weight: 1 }], undefined, /additional destination 0 has no serviceName/],
  ])('refuses: %s', (_name, weight, extra, max, error) => {
    const req = weightRequest(makeRollout(max ? { maxTrafficWeight: max } : {}), PLUGIN, weight, extra);
    expect(() => desiredTargetGroups(req, target)).toThrow(WeightError);
    expect(() => desiredTargetGroups(req, target)).toThrow(error);
  });
});

describe('planSetWeight (spec §2, §9.1)', () => {
  it('initial weight on an Ingress without annotations writes the action and the managed entry (#12)', () => {
    expect(setWeight(makeIngress(), 10)).toEqual({
      annotations: {
        [ACTION]: action('canary-svc', 'stable-svc', 443, 10),
        [MANAGED]: `{"rollout":["${ACTION}"]}`,
      },
    });
  });

  describe('Argo\'s own bookkeeping key (never written for a plugin Rollout, e2e-facts.md)', () => {
    const ARGO = 'rollouts.argoproj.io/managed-alb-annotations';
    const withArgoEntry = (entries: Record<string, string[]>): Ingress => {
      const ing = makeIngress({ weight: 0 });
      delete ing.metadata.annotations![MANAGED];
      ing.metadata.annotations![ARGO] = JSON.stringify(entries);
      return ing;
    };

    it('hand-over from trafficRouting.alb: the Rollout\'s entry leaves Argo\'s map in the same write that records ours', () => {
      expect(setWeight(withArgoEntry({ rollout: [ACTION] }), 0)).toEqual({
        annotations: { [ARGO]: null, [MANAGED]: `{"rollout":["${ACTION}"]}` },
      });
    });

    it('hand-over keeps the built-in router\'s other Rollouts in its map', () => {
      const other = `${PREFIX}/actions.other-svc`;
      expect(setWeight(withArgoEntry({ legacy: [other], rollout: [ACTION] }), 20).annotations).toEqual({
        [ACTION]: action('canary-svc', 'stable-svc', 443, 20),
        [ARGO]: `{"legacy":["${other}"]}`,
        [MANAGED]: `{"rollout":["${ACTION}"]}`,
      });
    });

    it('a key a built-in Rollout drives is refused, naming that Rollout', () => {
      expect(() => setWeight(withArgoEntry({ legacy: [ACTION] }), 20)).toThrow(
        /actions\.stable-svc is already managed by Rollout "legacy" \(built-in trafficRouting\.alb\)/,
      );
    });

    it('an unreadable Argo map is neither trusted nor rewritten', () => {
      const ing = withArgoEntry({});
      ing.metadata.annotations![ARGO] = 'not json';
      expect(setWeight(ing, 0)).toEqual({ annotations: { [MANAGED]: `{"rollout":["${ACTION}"]}` } });
    });
  });

  it('no change when the Ingress already has the weight (#8)', () => {
    expect(setWeight(makeIngress({ weight: 10 }), 10)).toEqual({ annotations: {} });
  });

  it('no change when the existing value means the same but is formatted differently', () => {
    const ing = makeIngress({ weight: 10 });
    ing.metadata.annotations![ACTION] = JSON.stringify(JSON.parse(ing.metadata.annotations![ACTION]!), null, 2);
    ing.metadata.annotations![MANAGED] = `{ "rollout": [ "${ACTION}" ] }`;
    expect(setWeight(ing, 10)).toEqual({ annotations: {} });
  });

  it('updates 5 → 10 writing only the action (#18)', () => {
    expect(setWeight(makeIngress({ weight: 5 }), 10)).toEqual({ annotations: { [ACTION]: action('canary-svc', 'stable-svc', 443, 10) } });
  });

  it('drops stickiness the Rollout no longer asks for (#16)', () => {
    expect(setWeight(makeIngress({ weight: 5, sticky: 300 }), 10)).toEqual({ annotations: { [ACTION]: action('canary-svc', 'stable-svc', 443, 10) } });
  });

  it('adds stickiness when enabled', () => {
    const edit = setWeight(makeIngress({ weight: 10 }), 10, { plugin: { ingress: 'ingress', servicePort: 443, stickinessConfig: { enabled: true, durationSeconds: 300 } } });
    expect(edit.annotations[ACTION]).toBe(action('canary-svc', 'stable-svc', 443, 10, 300));
  });

  it('writes experiments between canary and stable, byte for byte (#28)', () => {
    const edit = setWeight(makeIngress({ weight: 0 }), 10, {}, [{ serviceName: 'ex-svc-1', weight: 2 }, { serviceName: 'ex-svc-2', weight: 3 }]);
    expect(edit.annotations[ACTION]).toBe(
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":10},{"ServiceName":"ex-svc-1","ServicePort":"443","Weight":2},{"ServiceName":"ex-svc-2","ServicePort":"443","Weight":3},{"ServiceName":"stable-svc","ServicePort":"443","Weight":85}]}}',
    );
  });

  it('ping-pong: key is actions.<rootService>, weights on pong (stable) and ping (canary) (#14)', () => {
    const edit = setWeight(makeIngress({ actionService: 'root-service' }), 10, {
      pingPong: { pingService: 'ping-service', pongService: 'pong-service' },
      stablePingPong: 'not-ping',
      plugin: { ingress: 'ingress', servicePort: 443, rootService: 'root-service' },
    });
    expect(edit.annotations).toEqual({
      [`${PREFIX}/actions.root-service`]: action('ping-service', 'pong-service', 443, 10),
      [MANAGED]: `{"rollout":["${PREFIX}/actions.root-service"]}`,
    });
  });

  it('custom annotation prefix changes the action key, not the managed key', () => {
    const edit = setWeight(makeIngress(), 10, { plugin: { ingress: 'ingress', servicePort: 443, annotationPrefix: 'custom.alb' } });
    expect(Object.keys(edit.annotations)).toEqual(['custom.alb/actions.stable-svc', MANAGED]);
  });

  it('keeps other Rollouts\' entries and adds its own', () => {
    const ing = makeIngress();
    ing.metadata.annotations = { [MANAGED]: `{"zeta":["${PREFIX}/actions.other"]}` };
    expect(setWeight(ing, 10).annotations[MANAGED]).toBe(`{"rollout":["${ACTION}"],"zeta":["${PREFIX}/actions.other"]}`);
  });

  it.each([
    ['invalid managed annotation (#10)', { [MANAGED]: 'test' }, ManagedAnnotationsError],
    ['another Rollout owns the action key', { [MANAGED]: `{"other":["${ACTION}"]}` }, /actions.stable-svc is already managed by Rollout "other"; two Rollouts cannot drive one action/],
  ])('refuses: %s', (_name, annotations, error) => {
    const ing = makeIngress();
    ing.metadata.annotations = annotations;
    expect(() => setWeight(ing, 10)).toThrow(error);
  });

  it('refuses when the action service is not a backend (#6)', () => {
    expect(() => setWeight(makeIngress(), 10, { plugin: { ingress: 'ingress', servicePort: 443, rootService: 'invalid-svc' } })).toThrow(
      /ingress `ingress` does not have service `invalid-svc` in rules/,
    );
  });
});

describe('header routes (spec §4, §9.1 #32–37)', () => {
  const opts: RolloutOptions = { managedRoutes: ['header-route'] };
  const route = (match?: SetHeaderRoute['match']): SetHeaderRoute => ({ name: 'header-route', ...(match !== undefined ? { match } : {}) });
  function headerRoute(ing: Ingress, r: SetHeaderRoute, o: RolloutOptions = opts) {
    const rollout = makeRollout(o);
    const ctx = rolloutContext(rollout, PLUGIN);
    return planSetHeaderRoute(ing, ctx, ctx.config.ingresses[0]!, r);
  }
  const RA = `${PREFIX}/actions.header-route`;
  const RC = `${PREFIX}/conditions.header-route`;

  it('adds action, conditions, managed keys and a path copying the action path', () => {
    const ing = makeIngress({ weight: 10 });
    const edit = headerRoute(ing, route([{ headerName: 'Agent', headerValue: { exact: 'Chrome' } }]));
    expect(edit.annotations).toEqual({
      [RA]: '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":100}]}}',
      [RC]: '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Agent","values":["Chrome"]}}]',
      [MANAGED]: `{"rollout":["${ACTION}","${RA}","${RC}"]}`,
    });
    expect(edit.rules).toEqual([
      {
        http: {
          paths: [
            { path: '/api', pathType: 'Prefix', backend: { service: { name: 'header-route', port: { name: 'use-annotation' } } } },
            { path: '/api', pathType: 'Prefix', backend: { service: { name: 'stable-svc', port: { name: 'use-annotation' } } } },
          ],
        },
      },
    ]);
    // applying it and asking again changes nothing
    expect(headerRoute(applyIngressEdit(ing, edit), route([{ headerName: 'Agent', headerValue: { exact: 'Chrome' } }]))).toEqual({ annotations: {} });
  });

  it.each([
    ['prefix becomes an ALB wildcard (#32 uses prefix)', [{ headerName: 'Agent', headerValue: { prefix: 'Chrome' } }],
      '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Agent","values":["Chrome*"]}}]'],
    ['different header names (#33)', [{ headerName: 'origin', headerValue: { exact: 'https://www.fake-origin1.com' } }, { headerName: 'Agent', headerValue: { exact: 'Chrome' } }],
      '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"origin","values":["https://www.fake-origin1.com"]}},{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Agent","values":["Chrome"]}}]'],
    ['same header name merged (#34)', [{ headerName: 'origin', headerValue: { exact: 'https://www.fake-origin1.com' } }, { headerName: 'Agent', headerValue: { exact: 'Chrome' } }, { headerName: 'origin', headerValue: { exact: 'https://www.fake-origin2.com' } }],
      '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"origin","values":["https://www.fake-origin1.com","https://www.fake-origin2.com"]}},{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"Agent","values":["Chrome"]}}]'],
    ['HTML characters escaped as Go does', [{ headerName: 'X', headerValue: { exact: 'a&b<c>' } }],
      '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X","values":["a\\u0026b\\u003cc\\u003e"]}}]'],
  ])('conditions: %s', (_name, match, expected) => {
    expect(headerRoute(makeIngress({ weight: 10 }), route(match)).annotations[RC]).toBe(expected);
  });

  it.each([
    ['regex', route([{ headerName: 'Agent', headerValue: { regex: 'Chr.*' } }]), opts, /regular expressions are not supported by ALB/],
    ['value missing', route([{ headerName: 'Agent' }]), opts, /StringMatch value missed/],
    ['route not in managedRoutes', route([{ headerName: 'A', headerValue: { exact: 'x' } }]), {}, /header route "header-route" is not listed in spec.strategy.canary.trafficRouting.managedRoutes/],
    ['more than 5 values', route(['1', '2', '3', '4', '5', '6'].map((v) => ({ headerName: 'A', headerValue: { exact: v } }))), opts, /6 header values; an ALB rule takes at most 5/],
  ])('refuses: %s', (_name, r, o, error) => {
    expect(() => headerRoute(makeIngress({ weight: 10 }), r, o)).toThrow(error);
  });

  function withRoute(): Ingress {
    const ing = makeIngress({ weight: 10 });
    ing.metadata.annotations![RA] = '{}';
    ing.metadata.annotations![RC] = '{}';
    ing.metadata.annotations![MANAGED] = `{"rollout":["${ACTION}","${RA}","${RC}"]}`;
    ing.spec!.rules!.push({ http: { paths: [{ path: '/*', pathType: 'ImplementationSpecific', backend: { service: { name: 'header-route', port: { name: 'use-annotation' } } } }] } });
    return ing;
  }

  it('SetHeaderRoute without match removes keys, managed entries and the path (#36)', () => {
    const edit = headerRoute(withRoute(), route());
    expect(edit.annotations).toEqual({ [RA]: null, [RC]: null, [MANAGED]: `{"rollout":["${ACTION}"]}` });
    // Corrected: the route's rule held only the route's path; Argo would leave `{http: {paths: []}}`, which the
    // API server rejects, so the rule is dropped.
    expect(edit.rules).toEqual([makeIngress().spec!.rules![0]]);
  });

  it('removing a route that was the only path of a host rule keeps the host without http', () => {
    const ing = withRoute();
    ing.spec!.rules![1]!.host = 'canary.example.com';
    expect(headerRoute(ing, route()).rules).toEqual([makeIngress().spec!.rules![0], { host: 'canary.example.com' }]);
  });

  it('RemoveManagedRoutes removes the same, and nothing when already clean', () => {
    const ctx = rolloutContext(makeRollout(opts), PLUGIN);
    const edit = planRemoveManagedRoutes(withRoute(), ctx);
    expect(edit.annotations).toEqual({ [RA]: null, [RC]: null, [MANAGED]: `{"rollout":["${ACTION}"]}` });
    expect(edit.rules).toEqual([makeIngress().spec!.rules![0]]);
    expect(planRemoveManagedRoutes(applyIngressEdit(withRoute(), edit), ctx)).toEqual({ annotations: {} });
  });

  it('RemoveManagedRoutes leaves a route another Rollout owns', () => {
    const ing = withRoute();
    ing.metadata.annotations![MANAGED] = `{"other":["${RA}","${RC}"],"rollout":["${ACTION}"]}`;
    expect(planRemoveManagedRoutes(ing, rolloutContext(makeRollout(opts), PLUGIN))).toEqual({ annotations: {} });
  });

  it('refuses to add a route whose keys another Rollout owns', () => {
    const ing = makeIngress({ weight: 10 });
    ing.metadata.annotations![MANAGED] = `{"other":["${RA}"],"rollout":["${ACTION}"]}`;
    expect(() => headerRoute(ing, route([{ headerName: 'A', headerValue: { exact: 'x' } }]))).toThrow(/already managed by Rollout "other"/);
  });
});
