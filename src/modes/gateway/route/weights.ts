// SetWeight on an HTTPRoute: the guarded JSON patch that changes only the `weight` of the stable, canary and
// experiment backendRefs of the rules the Rollout drives (driven-rules.ts), adding and removing the experiment
// backendRefs it owns (ownership.ts); and the weights of a rule as the LBC reads them.

import { MAX_TARGET_GROUPS } from '../../../core/limits.js';
import type { DesiredWeight } from '../../../core/weights.js';
import type { GatewayConfig, RouteRef } from '../config.js';
import { selectRules } from './driven-rules.js';
import { DEFAULT_BACKEND_WEIGHT, indexOfService, refersTo, RoutePlanError, routeLabel, ruleLabel, type BackendRef, type HTTPRoute, type HTTPRouteRule } from './model.js';
import { bookkeepingOps, ownedBy, ownerKey, releaseRecord } from './ownership.js';
import { PatchBuilder, type Plan } from './plan.js';

/**
 * SetWeight on one route: each driven rule's stable, canary and experiment backendRefs get the core's weights;
 * experiment Services missing from a rule are added (on the Service's own port when known) and recorded as owned,
 * owned experiment backendRefs no longer wanted are removed; weights off stable are recorded with what a release
 * needs. Nothing else in the route changes.
 */
export function planWeights(
  route: HTTPRoute,
  ref: RouteRef,
  config: GatewayConfig,
  desired: readonly DesiredWeight[],
  /** Port of each experiment Service (Argo creates them with the container port); the stable backendRef's port otherwise. */
  experimentPorts: ReadonlyMap<string, number> = new Map(),
): Plan {
  const owner = ownerKey(config);
  const owned = ownedBy(route, owner);
  const experiments = desired.filter((d) => d.role === 'experiment').map((d) => d.service);
  const b = new PatchBuilder(route);
  const indices = selectRules(route, ref, config);
  const addedBackends = new Set(owned.backends);
  for (const i of indices) {
    const rule = b.work.spec.rules![i]!;
    const refs = rule.backendRefs ?? [];
    const stableRef = refs[indexOfService(rule, config.services.stable, config, ref)]!;
    const leaving = refs
      .map((r, j) => ({ r, j }))
      .filter(({ r }) => owned.backends.some((svc) => refersTo(r, svc, config.namespace, ref.namespace) && !experiments.includes(svc)));
    const missing = experiments.filter((svc) => indexOfService(rule, svc, config, ref) < 0);
    const count = refs.length - leaving.length + missing.length;
    if (count > MAX_TARGET_GROUPS) {
      throw new RoutePlanError(
        `${routeLabel(ref)} ${ruleLabel(rule, i)} would have ${count} backendRefs (${refs.length} now` +
          `${missing.length ? `, ${missing.length} experiment Service(s) to add` : ''}); ALB forwards to at most ${MAX_TARGET_GROUPS} target groups, ` +
          'remove backendRefs from the rule or use fewer experiment templates',
      );
    }
    const base = `/spec/rules/${i}/backendRefs`;
    for (const { j } of [...leaving].reverse()) {
      b.push({ op: 'test', path: `${base}/${j}/name`, value: refs[j]!.name }, { op: 'remove', path: `${base}/${j}` });
    }
    for (const svc of missing) {
      const add: BackendRef = { name: svc, weight: 0 };
      if (ref.namespace !== config.namespace) add.namespace = config.namespace;
      const port = experimentPorts.get(svc) ?? stableRef.port;
      if (port !== undefined) add.port = port;
      b.push({ op: 'add', path: `${base}/-`, value: add });
      addedBackends.add(svc);
    }
    // An experiment backendRef this Rollout added on a fallback port gets the Service's port once it is known.
    for (const svc of experiments) {
      const port = experimentPorts.get(svc);
      if (port === undefined || !addedBackends.has(svc)) continue;
      const current = b.work.spec.rules![i]!.backendRefs ?? [];
      const j = current.findIndex((r) => refersTo(r, svc, config.namespace, ref.namespace));
      if (j >= 0 && current[j]!.port !== port) {
        b.push({ op: 'test', path: `${base}/${j}/name`, value: svc }, { op: current[j]!.port === undefined ? 'add' : 'replace', path: `${base}/${j}/port`, value: port });
      }
    }
    for (const d of desired) {
      const current = b.work.spec.rules![i]!.backendRefs ?? [];
      const j = current.findIndex((r) => refersTo(r, d.service, config.namespace, ref.namespace));
      const now = current[j]!;
      if ((now.weight ?? DEFAULT_BACKEND_WEIGHT) === d.weight && now.weight !== undefined) continue;
      b.push(
        { op: 'test', path: `${base}/${j}/name`, value: now.name },
        { op: now.weight === undefined ? 'add' : 'replace', path: `${base}/${j}/weight`, value: d.weight },
      );
    }
  }
  const backends = [...addedBackends].filter((svc) => experiments.includes(svc)).sort();
  // Weights off stable are a hold of their own: the entry (with what a release needs) stays until they are back.
  const shifted = desired.some((d) => d.role !== 'stable' && d.weight > 0);
  b.push(...bookkeepingOps(b.work, owner, { rules: owned.rules, backends, ...(shifted ? { shifted } : {}), release: releaseRecord(config) }));
  return { ops: b.finish(), after: b.work };
}

/** Weights per Service of a rule as the LBC writes them into the forward (absent = 1, 0 kept). */
export function ruleWeights(rule: HTTPRouteRule): Array<[string, number]> {
  return (rule.backendRefs ?? []).map((r) => [r.name, r.weight ?? DEFAULT_BACKEND_WEIGHT]);
}
