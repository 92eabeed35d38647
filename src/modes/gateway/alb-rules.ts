// Which ALB rules the LBC made for a route rule, and whether they carry the weights: pure functions over a route
// rule and DescribeRules output. The LBC makes one ALB rule per (match × hostname) of a route rule
// (docs/gateway-api-facts.md §3); a rule is recognised by its conditions, rendered as the LBC renders them (host
// header, path pattern, one http-header condition per header match with the value split on unescaped commas,
// method), and by forwarding to the route's stable target group (target groups are per route, docs/gateway-api-facts.md). Never by
// priority or the rule's resource tag: both change whenever any route on the listener gains or loses a rule.
// Query-parameter matches count too (one query-string condition per parameter, buildHttpQueryParamCondition in the
// LBC's pkg/gateway/routeutils/route_rule_condition.go): a stable-only rule with the same path but a query match
// is another rule. A GRPCRoute rule renders differently (buildGrpcRuleConditions there): its method match is the
// path pattern `/<service>/<method>`, `/*` without one, and its header values are split like an HTTPRoute's Exact
// ones whatever their type.

import type { Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { lbcHeaderValues } from './route/header-rules.js';
import { DEFAULT_BACKEND_WEIGHT, type GRPCMethodMatch, type HTTPRouteMatch, type HTTPRouteRule, type RouteKind } from './route/model.js';

/** A rule's conditions as a sorted list of `field:value` strings (header names lower-cased, values sorted). */
export type Signature = string;

function sig(parts: string[]): Signature {
  return JSON.stringify([...parts].sort());
}

function pathParts(m: HTTPRouteMatch): string[] {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  if (type === 'Exact') return [`path:${JSON.stringify([value])}`];
  if (type === 'RegularExpression') return [`path-regex:${JSON.stringify([value])}`];
  if (value === '/') return [`path:${JSON.stringify(['/*'])}`];
  const trimmed = value.endsWith('/') ? value.slice(0, -1) : value;
  return [`path:${JSON.stringify([trimmed, `${trimmed}/*`].sort())}`];
}

/** The path pattern of a GRPCRoute match: its method match as `/<service>/<method>`, `*` for the part left out. */
function grpcPathParts(method: GRPCMethodMatch | undefined): string[] {
  if (!method || (method.service === undefined && method.method === undefined)) return [`path:${JSON.stringify(['/*'])}`];
  return [`path:${JSON.stringify([`/${method.service ?? '*'}/${method.method ?? '*'}`])}`];
}

function httpMatchParts(m: HTTPRouteMatch): string[] {
  const out = [...pathParts(m)];
  for (const h of m.headers ?? []) {
    const values = h.type === 'RegularExpression' ? [h.value] : lbcHeaderValues(h.value);
    out.push(`${h.type === 'RegularExpression' ? 'header-regex' : 'header'}:${h.name.toLowerCase()}=${JSON.stringify([...values].sort())}`);
  }
  if (typeof m.method === 'string') out.push(`method:${JSON.stringify([m.method])}`);
  for (const q of m.queryParams ?? []) out.push(`query:${JSON.stringify([[q.name, q.value]])}`);
  return out;
}

function grpcMatchParts(m: HTTPRouteMatch): string[] {
  const out = grpcPathParts(typeof m.method === 'object' ? m.method : undefined);
  // The LBC reads every GRPC header value as Exact values (a RegularExpression one too: it is not a regex condition).
  for (const h of m.headers ?? []) out.push(`header:${h.name.toLowerCase()}=${JSON.stringify([...lbcHeaderValues(h.value)].sort())}`);
  return out;
}

/** The condition signatures the LBC builds for one route rule: one per match × hostname. */
export function expectedSignatures(rule: HTTPRouteRule, hostnames: readonly string[], kind: RouteKind = 'HTTPRoute'): Signature[] {
  const grpc = kind === 'GRPCRoute';
  const matches: HTTPRouteMatch[] = rule.matches?.length ? rule.matches : [grpc ? {} : { path: { type: 'PathPrefix', value: '/' } }];
  const hosts: Array<string | undefined> = hostnames.length ? [...hostnames] : [undefined];
  const out: Signature[] = [];
  for (const m of matches) {
    const base = grpc ? grpcMatchParts(m) : httpMatchParts(m);
    for (const host of hosts) out.push(sig(host === undefined ? base : [...base, `host:${JSON.stringify([host.toLowerCase()])}`]));
  }
  return out;
}

function values(c: RuleCondition, config: { Values?: string[] } | undefined): string[] {
  return [...(config?.Values ?? c.Values ?? [])].sort();
}

/** An ALB rule's conditions as a signature, in expectedSignatures' terms. */
export function ruleSignature(rule: Rule): Signature {
  const parts: string[] = [];
  for (const c of rule.Conditions ?? []) {
    switch (c.Field) {
      case 'path-pattern': {
        const cfg = c.PathPatternConfig as { Values?: string[]; RegexValues?: string[] } | undefined;
        if (cfg?.RegexValues?.length) parts.push(`path-regex:${JSON.stringify([...cfg.RegexValues].sort())}`);
        else parts.push(`path:${JSON.stringify(values(c, cfg))}`);
        break;
      }
      case 'host-header':
        parts.push(`host:${JSON.stringify(values(c, c.HostHeaderConfig).map((v) => v.toLowerCase()))}`);
        break;
      case 'http-header': {
        const cfg = c.HttpHeaderConfig as { HttpHeaderName?: string; Values?: string[]; RegexValues?: string[] } | undefined;
        const name = (cfg?.HttpHeaderName ?? '').toLowerCase();
        if (cfg?.RegexValues?.length) parts.push(`header-regex:${name}=${JSON.stringify([...cfg.RegexValues].sort())}`);
        else parts.push(`header:${name}=${JSON.stringify([...(cfg?.Values ?? [])].sort())}`);
        break;
      }
      case 'http-request-method':
        parts.push(`method:${JSON.stringify(values(c, c.HttpRequestMethodConfig))}`);
        break;
      case 'query-string': {
        const pairs = (c.QueryStringConfig?.Values ?? []).map((kv) => [kv.Key ?? '', kv.Value ?? '']).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        parts.push(`query:${JSON.stringify(pairs)}`);
        break;
      }
      default:
        break;
    }
  }
  return sig(parts);
}

/** Target group ARN → weight of the rule's forward (a single-target forward counts as weight 1). */
export function forwardWeights(rule: Rule): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of rule.Actions ?? []) {
    if (a.Type !== 'forward') continue;
    if (a.ForwardConfig?.TargetGroups?.length) {
      for (const tg of a.ForwardConfig.TargetGroups) if (tg.TargetGroupArn) out.set(tg.TargetGroupArn, tg.Weight ?? DEFAULT_BACKEND_WEIGHT);
    } else if (a.TargetGroupArn) out.set(a.TargetGroupArn, DEFAULT_BACKEND_WEIGHT);
  }
  return out;
}

export interface ExpectedWeight {
  service: string;
  weight: number;
  /** The route's target group for the Service, when the LBC has made it. */
  targetGroupArn?: string;
}

/** Why a found ALB rule does not (yet) carry the weights; empty when it does. */
export function weightReasons(rule: Rule, expected: readonly ExpectedWeight[], where: string): string[] {
  const forward = forwardWeights(rule);
  const reasons: string[] = [];
  for (const e of expected) {
    if (!e.targetGroupArn) {
      if (e.weight > 0) reasons.push(`${where}: no target group for Service ${e.service} yet (weight ${e.weight} expected)`);
      continue;
    }
    const got = forward.get(e.targetGroupArn);
    if (got === undefined) {
      if (e.weight > 0) reasons.push(`${where}: Service ${e.service} is not in the forward yet (weight ${e.weight} expected)`);
    } else if (got !== e.weight) {
      reasons.push(`${where}: Service ${e.service} has weight ${got}, expected ${e.weight}`);
    }
  }
  return reasons;
}
