// Ingress paths for header routes. The route's path copies the path and pathType of the action service's
// path (Argo always inserts `/*`, which only works when the main path is `/*`: #2829) and goes immediately
// before it in the same rule, so ALB evaluates it just before the action's own rule (#2902) and never in
// front of an unrelated path: with `[/api/* → api, /* → stable]` header traffic for `/api/*` still reaches
// `api` (Argo inserts at index 0 of every rule, utils/ingress/ingress.go). A route path is a path whose backend is the
// route's name on port `use-annotation`, the LBC's convention for annotation actions; a real backend that
// happens to share the name is never moved or removed.

import { isDeepStrictEqual } from 'node:util';
import type { HTTPIngressPath, IngressRule } from '../../k8s/ingress.js';
import { USE_ANNOTATION_PORT } from './checks.js';

function backendName(p: HTTPIngressPath): string | undefined {
  return p.backend.service?.name;
}

/** A path the LBC reads as the annotation action `route` (`use-annotation` port), not a real backend. */
function isRoutePath(p: HTTPIngressPath, route: string): boolean {
  return backendName(p) === route && p.backend.service?.port?.name === USE_ANNOTATION_PORT;
}

function routePath(from: HTTPIngressPath, route: string): HTTPIngressPath {
  const out: HTTPIngressPath = { backend: { service: { name: route, port: { name: USE_ANNOTATION_PORT } } } };
  if (from.path !== undefined) out.path = from.path;
  if (from.pathType !== undefined) out.pathType = from.pathType;
  return out;
}

function samePaths(a: HTTPIngressPath[], b: HTTPIngressPath[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i] || isDeepStrictEqual(p, b[i]));
}

/** A rule with new paths; a rule left without paths loses `http`, and is dropped when nothing else remains. */
function withPaths(rule: IngressRule, paths: HTTPIngressPath[]): IngressRule[] {
  if (paths.length > 0) return [{ ...rule, http: { ...rule.http, paths } }];
  // The API server rejects `http: {paths: []}` (`spec.rules[i].http.paths: Required value`).
  const { http: _emptied, ...rest } = rule;
  return hasContent(rest) ? [rest] : [];
}

/**
 * Puts a `use-annotation` path for `route` immediately before each path of the action service, copying its
 * path and pathType. Route paths anywhere else (Argo's index 0, a rule without the action service, a path the
 * action no longer has) are moved or dropped. Rules that end up as they were keep their identity.
 */
export function withRoutePaths(rules: IngressRule[], actionService: string, route: string): IngressRule[] {
  return rules.flatMap((rule) => {
    const paths = rule.http?.paths;
    if (!paths) return [rule];
    const out: HTTPIngressPath[] = [];
    const added = new Set<string>();
    for (const p of paths) {
      if (isRoutePath(p, route)) continue;
      if (backendName(p) === actionService) {
        const key = JSON.stringify([p.path, p.pathType]);
        if (!added.has(key)) {
          added.add(key);
          // Before any route paths of other routes already waiting in front of the action path; the sort then
          // orders that run by managedRoutes.
          out.push(routePath(p, route));
        }
      }
      out.push(p);
    }
    return samePaths(out, paths) ? [rule] : withPaths(rule, out);
  });
}

/**
 * Removes every `use-annotation` path of `route`. A rule left without paths loses `http`: it stays when its
 * host still means something (a host rule without http is valid), and is dropped otherwise. Rules that never
 * held the route are returned as they are, even when they are already empty: they are not ours.
 */
export function withoutRoutePaths(rules: IngressRule[], route: string): IngressRule[] {
  return rules.flatMap((rule) => {
    const paths = rule.http?.paths;
    if (!paths || !paths.some((p) => isRoutePath(p, route))) return [rule];
    return withPaths(rule, paths.filter((p) => !isRoutePath(p, route)));
  });
}

/** Whether a rule without `http` still carries anything: a non-empty host, or a field newer than our type. */
function hasContent(rule: IngressRule): boolean {
  return Object.entries(rule).some(([key, value]) => (key === 'host' ? value !== undefined && value !== '' : value !== undefined));
}

/**
 * Orders each run of consecutive route paths (the paths waiting in front of one action path) by
 * managedRoutes, stably. Paths never move across other paths: Argo's sort brings route paths to the front of
 * the rule, ahead of unrelated paths (Argo's utils/ingress/ingress.go), which is what `withRoutePaths` avoids.
 */
export function sortRoutePaths(rules: IngressRule[], managedRoutes: string[]): IngressRule[] {
  const rank = (p: HTTPIngressPath): number => managedRoutes.findIndex((r) => isRoutePath(p, r));
  return rules.map((rule) => {
    const paths = rule.http?.paths;
    if (!paths) return rule;
    const sorted: HTTPIngressPath[] = [];
    let run: Array<{ p: HTTPIngressPath; r: number; i: number }> = [];
    const flush = (): void => {
      sorted.push(...run.sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.p));
      run = [];
    };
    paths.forEach((p, i) => {
      const r = rank(p);
      if (r >= 0) run.push({ p, r, i });
      else {
        flush();
        sorted.push(p);
      }
    });
    flush();
    return sorted.every((p, i) => p === paths[i]) ? rule : { ...rule, http: { ...rule.http, paths: sorted } };
  });
}
