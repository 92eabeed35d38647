import { describe, expect, it } from 'vitest';
import type { HTTPIngressPath, IngressRule } from '../../src/k8s/ingress.js';
import { checkActionBackend, checkIngressClass, ingressClass, IngressCheckError } from '../../src/trafficrouter/ingress-checks.js';
import { sortRoutePaths, withoutRoutePaths, withRoutePaths } from '../../src/trafficrouter/paths.js';
import { makeIngress } from './fixtures.js';

const p = (name: string, path = '/*', pathType = 'ImplementationSpecific', port: { name?: string; number?: number } = { name: 'use-annotation' }): HTTPIngressPath => ({
  path, pathType, backend: { service: { name, port } },
});
const names = (rules: IngressRule[]) => rules.map((r) => (r.http?.paths ?? []).map((x) => x.backend.service?.name));

describe('header-route paths', () => {
  it('sorts by managedRoutes, others keep their order (Argo TestSortHttpPaths)', () => {
    const rules = [{ http: { paths: [p('action1'), p('route3'), p('route1'), p('route2')] } }];
    expect(names(sortRoutePaths(rules, ['route1', 'route2', 'route3']))).toEqual([['route1', 'route2', 'route3', 'action1']]);
  });

  it('copies path and pathType of the action service on each rule that has it (fixes #2829)', () => {
    const rules: IngressRule[] = [
      { host: 'a.example.com', http: { paths: [p('other', '/other', 'Exact'), p('action', '/api', 'Prefix'), p('action', '/v2', 'Exact')] } },
      { host: 'b.example.com', http: { paths: [p('other', '/', 'Prefix')] } },
      { host: 'c.example.com', http: null },
      { host: 'd.example.com' },
    ];
    const out = withRoutePaths(rules, 'action', 'route');
    expect(out[0]!.http!.paths.slice(0, 2)).toEqual([p('route', '/api', 'Prefix'), p('route', '/v2', 'Exact')]);
    expect(out[0]!.http!.paths).toHaveLength(5);
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
