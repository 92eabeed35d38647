import { describe, expect, it } from 'vitest';
import type { HTTPIngressPath, IngressRule } from '../../../src/k8s/ingress.js';
import { checkActionBackend, checkIngressClass, ingressClass, IngressCheckError } from '../../../src/modes/ingress/checks.js';
import { sortRoutePaths, withoutRoutePaths, withRoutePaths } from '../../../src/modes/ingress/paths.js';
import { makeIngress } from './fixtures.js';

const p = (name: string, path = '/*', pathType = 'ImplementationSpecific', port: { name?: string; number?: number } = { name: 'use-annotation' }): HTTPIngressPath => ({
  path, pathType, backend: { service: { name, port } },
});
const names = (rules: IngressRule[]) => rules.map((r) => (r.http?.paths ?? []).map((x) => x.backend.service?.name));

describe('header-route paths', () => {
  it('sorts by managedRoutes, others keep their order (Argo TestSortHttpPaths, corrected: within a run)', () => {
    // Argo's input; Argo answers [route1, route2, route3, action1]: route paths jump ahead of every other path.
    // Here they are ordered where they stand, since withRoutePaths already put them before their action path.
    const rules = [{ http: { paths: [p('action1'), p('route3'), p('route1'), p('route2')] } }];
    expect(names(sortRoutePaths(rules, ['route1', 'route2', 'route3']))).toEqual([['action1', 'route1', 'route2', 'route3']]);
    const before = [{ http: { paths: [p('route3'), p('route1'), p('route2'), p('action1')] } }];
    expect(names(sortRoutePaths(before, ['route1', 'route2', 'route3']))).toEqual([['route1', 'route2', 'route3', 'action1']]);
  });

  it('copies path and pathType of the action service on each rule that has it (fixes #2829)', () => {
    const rules: IngressRule[] = [
      { host: 'a.example.com', http: { paths: [p('other', '/other', 'Exact'), p('action', '/api', 'Prefix'), p('action', '/v2', 'Exact')] } },
      { host: 'b.example.com', http: { paths: [p('other', '/', 'Prefix')] } },
      { host: 'c.example.com', http: null },
      { host: 'd.example.com' },
    ];
    const out = withRoutePaths(rules, 'action', 'route');
    // Each route path right before the action path it copies (Argo: both at index 0, see issue #12 item 4).
    expect(out[0]!.http!.paths).toEqual([
      p('other', '/other', 'Exact'), p('route', '/api', 'Prefix'), p('action', '/api', 'Prefix'), p('route', '/v2', 'Exact'), p('action', '/v2', 'Exact'),
    ]);
    expect(out.slice(1)).toEqual(rules.slice(1));
    // idempotent (Argo TestCreateAnnotationBasedPath)
    expect(withRoutePaths(out, 'action', 'route')).toEqual(out);
  });

  it('removes every path of the route and nothing else (Argo TestRemoveAnnotationBasedPath)', () => {
    const rules = [{ http: { paths: [p('route', '/api'), p('action', '/api'), p('route', '/v2')] } }, { http: null }];
    expect(names(withoutRoutePaths(rules, 'route'))).toEqual([['action'], []]);
  });

  // The API server rejects `http: {paths: []}` (`spec.rules[i].http.paths: Required value`); Argo's built-in
  // router sometimes put the route on a rule of its own, so removing it used to send exactly that.
  const route = p('route');
  const action = p('action', '/api', 'Prefix');
  const other = p('other', '/other', 'Exact');
  it.each<[string, IngressRule[], IngressRule[]]>([
    ['only path of a rule without host: rule dropped', [{ http: { paths: [action] } }, { http: { paths: [route] } }], [{ http: { paths: [action] } }]],
    ['only path of a rule with empty host: rule dropped', [{ http: { paths: [action] } }, { host: '', http: { paths: [route] } }], [{ http: { paths: [action] } }]],
    ['only path of a rule with host: http omitted, host kept', [{ host: 'a.example.com', http: { paths: [route] } }, { http: { paths: [action] } }],
      [{ host: 'a.example.com' }, { http: { paths: [action] } }]],
    ['several paths of the route, all of a rule: rule dropped', [{ http: { paths: [route, p('route', '/v2')] } }, { http: { paths: [action] } }], [{ http: { paths: [action] } }]],
    ['a field newer than our type keeps the rule', [{ http: { paths: [route] }, future: 1 } as IngressRule], [{ future: 1 } as IngressRule]],
    ['several rules: each handled on its own, order kept',
      [{ host: 'a.example.com', http: { paths: [route, action] } }, { http: { paths: [route] } }, { host: 'b.example.com', http: { paths: [route] } }, { http: { paths: [other] } }],
      [{ host: 'a.example.com', http: { paths: [action] } }, { host: 'b.example.com' }, { http: { paths: [other] } }]],
    ['rules without the route untouched, even empty or path-less ones',
      [{ http: { paths: [other] } }, { host: 'c.example.com' }, { http: { paths: [] } }, { http: null }, { http: { paths: [route] } }],
      [{ http: { paths: [other] } }, { host: 'c.example.com' }, { http: { paths: [] } }, { http: null }]],
    ['the last rule removed leaves an empty list', [{ http: { paths: [route] } }], []],
  ])('removal leaves no rule with empty paths: %s', (_name, rules, expected) => {
    const before = structuredClone(rules);
    const out = withoutRoutePaths(rules, 'route');
    expect(out).toEqual(expected);
    expect(rules).toEqual(before);
    expect(withoutRoutePaths(out, 'route')).toEqual(out);
  });

  it('rules without the route keep their identity (so the plan sees no change)', () => {
    const rules: IngressRule[] = [{ http: { paths: [other] } }, { host: 'c.example.com' }];
    const out = withoutRoutePaths(rules, 'route');
    expect(out[0]).toBe(rules[0]);
    expect(out[1]).toBe(rules[1]);
  });
});

describe('Ingress checks Argo never makes', () => {
  it.each([
    ['annotation wins over spec', { 'kubernetes.io/ingress.class': 'alb' }, 'nginx', 'alb'],
    ['spec when no annotation', undefined, 'alb-internal', 'alb-internal'],
    ['empty annotation falls back to spec', { 'kubernetes.io/ingress.class': '' }, 'alb', 'alb'],
    ['no class', undefined, undefined, ''],
  ])('ingressClass: %s (Argo TestGetClass)', (_name, annotations, className, expected) => {
    const ing = makeIngress();
    if (annotations) ing.metadata.annotations = annotations;
    if (className === undefined) delete ing.spec!.ingressClassName;
    else ing.spec!.ingressClassName = className;
    expect(ingressClass(ing)).toBe(expected);
  });

  it.each([
    ['alb in [alb]', 'alb', ['alb'], null],
    ['nginx in [alb]', 'nginx', ['alb'], /ingress `ingress` has class "nginx", which is not one of the ALB classes \["alb"\]; set spec.ingressClassName/],
    ['no class in [alb]', undefined, ['alb'], /has no class/],
    ['no class in ["", alb]', undefined, ['', 'alb'], null],
  ])('class check: %s', (_name, className, classes, error) => {
    const ing = makeIngress();
    if (className === undefined) delete ing.spec!.ingressClassName;
    else ing.spec!.ingressClassName = className;
    if (error) expect(() => checkIngressClass(ing, classes)).toThrow(error);
    else expect(() => checkIngressClass(ing, classes)).not.toThrow();
  });

  it.each([
    ['use-annotation backend', 'stable-svc', { name: 'use-annotation' }, null],
    ['service not in rules', 'invalid-svc', { name: 'use-annotation' }, /ingress `ingress` does not have service `invalid-svc` in rules; add a path/],
    ['numeric port', 'stable-svc', { number: 80 }, /backend `stable-svc` of path "\/api" uses port 80; set service.port.name to use-annotation, otherwise the ALB controller ignores alb.ingress.kubernetes.io\/actions.stable-svc/],
    ['named port', 'stable-svc', { name: 'http' }, /uses port http; set service.port.name to use-annotation/],
  ])('action backend: %s', (_name, service, port, error) => {
    const ing = makeIngress({ backendPort: port });
    if (error) expect(() => checkActionBackend(ing, service, 'alb.ingress.kubernetes.io')).toThrow(error);
    else expect(() => checkActionBackend(ing, service, 'alb.ingress.kubernetes.io')).not.toThrow();
    if (error) expect(() => checkActionBackend(ing, service, 'alb.ingress.kubernetes.io')).toThrow(IngressCheckError);
  });
});

// Item 4 of issue #12: the route's path goes immediately before the action service's path within its rule,
// so header traffic for an unrelated path that comes first (`/api/* → api`) still reaches that path's own
// backend. Argo inserts `/*` at index 0 of every rule and sorts route paths to the front (spec §4.2); that
// sends header traffic for `/api/*` to the root app's canary. `plans.ts` always runs `withRoutePaths` and
// then `sortRoutePaths`, so the table checks the two together.
describe('header-route paths go immediately before the action path (issue #12 item 4)', () => {
  const r = (name: string, path = '/*', pathType = 'ImplementationSpecific') => p(name, path, pathType);
  const real = (name: string, path = '/*') => p(name, path, 'ImplementationSpecific', { number: 80 });
  const add = (rules: IngressRule[], route = 'route', managed = ['route']) => sortRoutePaths(withRoutePaths(rules, 'stable', route), managed);
  it.each<[string, IngressRule[], IngressRule[], string?, string[]?]>([
    ['an unrelated path before the catch-all keeps its header traffic',
      [{ http: { paths: [p('api', '/api/*'), p('stable', '/*')] } }],
      [{ http: { paths: [p('api', '/api/*'), r('route', '/*'), p('stable', '/*')] } }]],
    ['action path first: route first', [{ http: { paths: [p('stable'), p('other', '/other')] } }],
      [{ http: { paths: [r('route'), p('stable'), p('other', '/other')] } }]],
    ['each action path gets its own route path right before it',
      [{ http: { paths: [p('stable', '/a', 'Prefix'), p('other', '/x', 'Exact'), p('stable', '/b', 'Exact')] } }],
      [{ http: { paths: [r('route', '/a', 'Prefix'), p('stable', '/a', 'Prefix'), p('other', '/x', 'Exact'), r('route', '/b', 'Exact'), p('stable', '/b', 'Exact')] } }]],
    ['a second route joins the run before the action path, in managedRoutes order',
      [{ http: { paths: [p('api', '/api/*'), r('r2'), p('stable')] } }],
      [{ http: { paths: [p('api', '/api/*'), r('r1'), r('r2'), p('stable')] } }], 'r1', ['r1', 'r2']],
    ['Argo placement (index 0 of every rule) moves next to the action path; rules without it lose the route',
      [{ host: 'a.example.com', http: { paths: [r('route'), p('api', '/api/*'), p('stable')] } }, { host: 'b.example.com', http: { paths: [r('route'), p('other')] } }],
      [{ host: 'a.example.com', http: { paths: [p('api', '/api/*'), r('route'), p('stable')] } }, { host: 'b.example.com', http: { paths: [p('other')] } }]],
    ['a stale route path (the action path changed) is replaced',
      [{ http: { paths: [r('route', '/old'), p('stable', '/new', 'Prefix')] } }],
      [{ http: { paths: [r('route', '/new', 'Prefix'), p('stable', '/new', 'Prefix')] } }]],
    ['a real backend named like the route is not the route: left in place, route still added',
      [{ http: { paths: [real('route', '/legacy'), p('stable')] } }],
      [{ http: { paths: [real('route', '/legacy'), r('route'), p('stable')] } }]],
    ['a rule that held only the route and no action path: rule dropped (no empty paths)',
      [{ http: { paths: [p('stable')] } }, { http: { paths: [r('route')] } }],
      [{ http: { paths: [r('route'), p('stable')] } }]],
  ])('%s', (_name, rules, expected, route = 'route', managed = ['route']) => {
    const before = structuredClone(rules);
    const out = add(rules, route, managed);
    expect(out).toEqual(expected);
    expect(rules).toEqual(before);
    // idempotent: asking again changes nothing
    expect(add(out, route, managed)).toEqual(out);
  });

  it('an unchanged rule keeps its identity (so the plan sees no change)', () => {
    const rules: IngressRule[] = [{ http: { paths: [p('api', '/api/*'), r('route'), p('stable')] } }, { http: { paths: [p('other')] } }];
    const out = add(rules);
    expect(out[0]).toBe(rules[0]);
    expect(out[1]).toBe(rules[1]);
  });

  it('removal deletes only the route\'s use-annotation paths, never a real backend of the same name', () => {
    const rules = [{ http: { paths: [real('route', '/legacy'), r('route'), p('stable')] } }];
    expect(withoutRoutePaths(rules, 'route')).toEqual([{ http: { paths: [real('route', '/legacy'), p('stable')] } }]);
    const onlyReal = [{ http: { paths: [real('route', '/legacy')] } }];
    expect(withoutRoutePaths(onlyReal, 'route')[0]).toBe(onlyReal[0]);
  });

  it('sorting moves route paths only within their run, and never a real backend of a route\'s name', () => {
    const rules = [{ http: { paths: [p('api', '/api/*'), r('r2'), r('r1'), p('stable'), real('r1', '/legacy')] } }];
    expect(sortRoutePaths(rules, ['r1', 'r2'])).toEqual([{ http: { paths: [p('api', '/api/*'), r('r1'), r('r2'), p('stable'), real('r1', '/legacy')] } }]);
  });
});
