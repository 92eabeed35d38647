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
