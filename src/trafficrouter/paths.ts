// Ingress paths for header routes. The route's path copies the path and pathType of the action service's
// paths on the same rule (Argo always inserts `/*`, which only works when the main path is `/*`: #2829), and
// routes are ordered by managedRoutes so ALB evaluates them before the catch-all (#2902).

import type { HTTPIngressPath, IngressRule } from '../k8s/ingress.js';
import { USE_ANNOTATION_PORT } from './ingress-checks.js';

function backendName(p: HTTPIngressPath): string | undefined {
  return p.backend.service?.name;
}

function routePath(from: HTTPIngressPath, route: string): HTTPIngressPath {
  const out: HTTPIngressPath = { backend: { service: { name: route, port: { name: USE_ANNOTATION_PORT } } } };
  if (from.path !== undefined) out.path = from.path;
  if (from.pathType !== undefined) out.pathType = from.pathType;
  return out;
}

/** Adds a `use-annotation` path for `route` beside each path of the action service that lacks one. */
export function withRoutePaths(rules: IngressRule[], actionService: string, route: string): IngressRule[] {
  return rules.map((rule) => {
    const paths = rule.http?.paths;
    if (!paths) return rule;
    const existing = paths.filter((p) => backendName(p) === route);
    const added = paths
      .filter((p) => backendName(p) === actionService)
      .filter((p) => !existing.some((e) => e.path === p.path && e.pathType === p.pathType))
      .map((p) => routePath(p, route));
    if (added.length === 0) return rule;
    return { ...rule, http: { ...rule.http, paths: [...added, ...paths] } };
  });
}

/**
 * Removes every path whose backend is `route`. The API server rejects `http: {paths: []}`
 * (`spec.rules[i].http.paths: Required value`), so a rule left without paths loses `http`: it stays when its
 * host still means something (a host rule without http is valid), and is dropped otherwise. Rules that never
 * held the route are returned as they are, even when they are already empty: they are not ours.
 */
export function withoutRoutePaths(rules: IngressRule[], route: string): IngressRule[] {
  return rules.flatMap((rule) => {
    const paths = rule.http?.paths;
    if (!paths || !paths.some((p) => backendName(p) === route)) return [rule];
    const kept = paths.filter((p) => backendName(p) !== route);
    if (kept.length > 0) return [{ ...rule, http: { ...rule.http, paths: kept } }];
    const { http: _emptied, ...rest } = rule;
    return hasContent(rest) ? [rest] : [];
  });
}

/** Whether a rule without `http` still carries anything: a non-empty host, or a field newer than our type. */
function hasContent(rule: IngressRule): boolean {
  return Object.entries(rule).some(([key, value]) => (key === 'host' ? value !== undefined && value !== '' : value !== undefined));
}

/** Stable sort: managed-route paths first in managedRoutes order, then the rest in their original order. */
export function sortRoutePaths(rules: IngressRule[], managedRoutes: string[]): IngressRule[] {
  const rank = (p: HTTPIngressPath): number => {
    const i = managedRoutes.indexOf(backendName(p) ?? '');
    return i < 0 ? managedRoutes.length : i;
  };
  return rules.map((rule) => {
    const paths = rule.http?.paths;
    if (!paths) return rule;
    const sorted = paths.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i).map((x) => x.p);
    return sorted.every((p, i) => p === paths[i]) ? rule : { ...rule, http: { ...rule.http, paths: sorted } };
  });
}
