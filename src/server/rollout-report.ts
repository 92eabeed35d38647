// Builds the HTTP API's RolloutReport from the verifier's two checks: the weight report (ELBv2 listener
// rules against the Rollout's current weights) and the target report (target groups against the Services'
// ready endpoints). Canary Rollouts of this plugin get both; other Rollouts (blue-green) name their
// Ingresses in the request and get the target check of their active and preview Services. Rollouts in
// listener-rule mode get the same two checks from the listener-rule router, on their one driven rule; Rollouts in
// Gateway mode the Gateway verifier's weight report on the ALB rules of their HTTPRoutes and the target check of
// their Services (the LBC's TargetGroupBindings for the Gateway name the Services as Ingress mode's do).

import { routingMode } from '../core/plugin-block.js';
import type { Rollout, WeightDestination } from '../core/rollout.js';
import { desiredWeights, stableWeight, type DesiredWeight } from '../core/weights.js';
import { parseGatewayConfig, type GatewayConfig, type GatewayWeightReport } from '../modes/gateway/index.js';
import type { ListenerRuleTargetsReport, ListenerRuleWeightReport, RoleTargetsReport } from '../modes/listener-rule/index.js';
import { weightRequest, type WeightRequest } from '../modes/ingress/view.js';
import type { TargetsReport, VerifyMode } from '../verify/target-health.js';
import type { IngressWeightReport } from '../modes/ingress/verify/weight-check.js';
import type { WeightReport } from '../modes/ingress/verify/weight-report.js';
import type { GatewayRuleReport, IngressReport, ReportOptions, RolloutReport, RolloutReportSource, TargetGroupReport, WeightMap } from './report.js';

/** The verifier functions the report is made of (src/verify). */
export interface ReportChecks {
  weights: { report(req: WeightRequest): Promise<WeightReport> };
  targets: { verifyTargets(namespace: string, service: string): Promise<TargetsReport> };
  /** Hostnames the LBC wrote into an Ingress's status (blue-green reports). */
  ingressHostnames(namespace: string, name: string): Promise<string[]>;
  /** Listener-rule mode's checks (the router's own); without them such a Rollout gets an error. */
  listenerRule?: ListenerRuleChecks;
  /** Gateway mode's weight check (the Gateway verifier's `report`); without it such a Rollout gets an error. */
  gateway?: GatewayChecks;
}

/** The Gateway verifier's report method (src/modes/gateway/verify.ts). */
export interface GatewayChecks {
  report(config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal): Promise<GatewayWeightReport>;
}

/** The listener-rule router's report methods (src/modes/listener-rule/router.ts). */
export interface ListenerRuleChecks {
  weightReport(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<ListenerRuleWeightReport>;
  /** Absent when target verification is off: the report then covers the weights only. */
  targetsReport?(rollout: Rollout): Promise<ListenerRuleTargetsReport>;
}

export interface RolloutReportSourceDeps extends ReportChecks {
  pluginName: string;
  getRollout(namespace: string, name: string, signal: AbortSignal): Promise<Rollout | undefined>;
  now?: () => Date;
  /**
   * How long a report may be served again to a request that did not ask for a fresh one (`/verify` always
   * checks anew). Dashboards polling the plain route then cost no extra ELBv2 calls. Default 10 s.
   */
  cacheTtlMs?: number;
  maxCached?: number;
}

interface BlueGreenStrategy {
  activeService?: string;
  previewService?: string;
}

/** The weight Argo last set (status.canary.weights); 0, i.e. all on stable, before it set any. */
export function currentWeights(rollout: Rollout): { desired: number; additional: WeightDestination[] } {
  const w = rollout.status?.canary?.weights;
  return { desired: w?.canary?.weight ?? 0, additional: w?.additional ?? [] };
}

function weightMap(entries: Array<{ service?: string; weight: number }>): WeightMap {
  const out: WeightMap = {};
  for (const e of entries) {
    if (e.service) out[e.service] = (out[e.service] ?? 0) + e.weight;
  }
  return out;
}

function ingressFromWeights(r: IngressWeightReport): IngressReport {
  const lb = r.loadBalancers[0];
  const rules = r.loadBalancers.flatMap((l) =>
    l.rules.map((rule) => ({
      arn: rule.ruleArn,
      listenerArn: rule.listenerArn ?? null,
      priority: rule.priority ?? null,
      expectedWeights: weightMap(rule.targetGroups.map((t) => ({ service: t.service, weight: t.expected }))),
      actualWeights: weightMap(rule.targetGroups.map((t) => ({ service: t.service ?? t.targetGroupArn, weight: t.actual }))),
      verified: rule.verified,
    })),
  );
  return {
    name: r.ingress,
    loadBalancer: { hostname: lb?.hostname ?? null, arn: lb?.arn ?? null, name: lb?.name ?? null },
    rules,
    expectedWeights: weightMap(r.expected),
    // Every matching rule must carry the same split; the first one stands for the Ingress.
    actualWeights: rules[0]?.actualWeights ?? {},
    verified: r.verified,
    reasons: [...r.reasons, ...r.loadBalancers.flatMap((l) => l.reasons)],
  };
}

function targetGroupsFrom(t: TargetsReport): TargetGroupReport[] {
  return t.targetGroups.map((g) => ({
    service: t.service,
    targetGroupBinding: g.targetGroupBinding,
    arn: g.targetGroupArn || null,
    expectedTargets: g.expected,
    registeredTargets: g.registered,
    healthyTargets: g.healthy,
    verified: g.verified,
    reasons: [
      ...(g.skipped ? [`skipped: ${g.skipped}`] : []),
      ...(g.error ? [g.error] : []),
      ...(g.missing.length > 0 ? [`not ${t.mode === 'healthy' ? 'healthy' : 'registered'}: ${g.missing.join(', ')}`] : []),
    ],
  }));
}

function targetReasons(t: TargetsReport): string[] {
  const own = [...t.reasons, ...(t.error ? [t.error] : [])];
  return t.verified ? [] : own.length > 0 ? own.map((r) => `Service ${t.service}: ${r}`) : [`Service ${t.service}: targets not verified`];
}

function weightsByArn(entries: Array<{ targetGroupArn: string; weight: number }>): WeightMap {
  return weightMap(entries.map((e) => ({ service: e.targetGroupArn, weight: e.weight })));
}

/** One entry per bound target group of the role; a role with none still shows its target group and why. */
function roleTargetGroups(role: RoleTargetsReport, mode: VerifyMode | undefined): TargetGroupReport[] {
  const service = role.service ?? '';
  if (role.targetGroups.length === 0) {
    return [
      {
        role: role.role,
        service,
        targetGroupBinding: '',
        arn: role.targetGroupArn ?? null,
        expectedTargets: 0,
        registeredTargets: 0,
        healthyTargets: 0,
        verified: role.verified,
        reasons: [...role.reasons, ...(role.error ? [role.error] : [])],
      },
    ];
  }
  return targetGroupsFrom({ namespace: '', service, mode: mode ?? 'healthy', verified: role.verified, reasons: [], targetGroups: role.targetGroups }).map(
    (g) => ({ role: role.role, ...g }),
  );
}

function roleReasons(role: RoleTargetsReport): string[] {
  if (role.verified) return [];
  const own = [...role.reasons, ...(role.error ? [`${role.role} (${role.field}): ${role.error}`] : [])];
  return own.length > 0 ? own : [`${role.role} target group ${role.targetGroupArn ?? `(${role.field})`}: targets not verified`];
}

export function createRolloutReportSource(deps: RolloutReportSourceDeps): RolloutReportSource {
  const now = deps.now ?? (() => new Date());
  const ttl = deps.cacheTtlMs ?? 10_000;
  const maxCached = deps.maxCached ?? 500;
  const cache = new Map<string, { at: number; report: RolloutReport }>();

  async function canaryReport(rollout: Rollout, ns: string): Promise<RolloutReport> {
    const { desired, additional } = currentWeights(rollout);
    const req = weightRequest(rollout, deps.pluginName, desired, additional);
    // Only Services that should carry traffic need their targets in place.
    const services = [...new Set([...(stableWeight(req) > 0 ? [req.services.stable] : []), ...(desired > 0 ? [req.services.canary] : [])])];
    const [weights, ...targets] = await Promise.all([deps.weights.report(req), ...services.map((s) => deps.targets.verifyTargets(ns, s))]);
    const ingresses = weights.ingresses.map(ingressFromWeights);
    const reasons = [...weights.reasons, ...(weights.error ? [weights.error] : []), ...targets.flatMap(targetReasons)];
    return {
      rollout: { namespace: ns, name: rollout.metadata.name, strategy: 'canary', desiredWeight: desired },
      verified: weights.verified && !weights.error && targets.every((t) => t.verified),
      reasons: [...new Set(reasons)],
      checkedAt: now().toISOString(),
      ingresses,
      targetGroups: targets.flatMap(targetGroupsFrom),
    };
  }

  async function listenerRuleReport(rollout: Rollout, ns: string): Promise<RolloutReport> {
    const checks = deps.listenerRule;
    if (!checks) throw new Error('listener-rule mode is not available in this sidecar (no ELBv2 client configured)');
    const { desired, additional } = currentWeights(rollout);
    const [weights, targets] = await Promise.all([
      checks.weightReport(rollout, desired, additional),
      checks.targetsReport?.(rollout),
    ]);
    const stable = stableWeight({ maxWeight: weights.maxWeight, desiredWeight: desired, additionalDestinations: additional });
    // As in Ingress mode, only target groups that should carry traffic need their targets in place.
    const roles = (targets?.roles ?? []).filter((r) => (r.role === 'stable' ? stable > 0 : desired > 0));
    const ruleReasons = [...weights.reasons, ...(weights.error ? [weights.error] : [])];
    const reasons = [...ruleReasons, ...roles.flatMap(roleReasons)];
    return {
      rollout: { namespace: ns, name: rollout.metadata.name, strategy: 'canary', desiredWeight: desired },
      verified: weights.verified && !weights.error && roles.every((r) => r.verified),
      reasons: [...new Set(reasons)],
      checkedAt: now().toISOString(),
      ingresses: [],
      listenerRule: {
        ruleArn: weights.ruleArn ?? null,
        listenerArn: weights.listenerArn ?? null,
        expectedWeights: weightsByArn(weights.expected),
        actualWeights: weightsByArn(weights.actual),
        verified: weights.verified && !weights.error,
        reasons: ruleReasons,
      },
      targetGroups: roles.flatMap((r) => roleTargetGroups(r, targets?.mode)),
    };
  }

  async function gatewayReport(rollout: Rollout, ns: string, signal: AbortSignal): Promise<RolloutReport> {
    const checks = deps.gateway;
    if (!checks) throw new Error('Gateway mode is not available in this sidecar (no Gateway verifier configured)');
    const config = parseGatewayConfig(rollout, deps.pluginName);
    const { desired, additional } = currentWeights(rollout);
    const want = desiredWeights({ desiredWeight: desired, additionalDestinations: additional, maxWeight: config.maxWeight, services: config.services });
    const stable = stableWeight({ maxWeight: config.maxWeight, desiredWeight: desired, additionalDestinations: additional });
    // As in Ingress mode, only Services that should carry traffic need their targets in place.
    const services = [...new Set([...(stable > 0 ? [config.services.stable] : []), ...(desired > 0 ? [config.services.canary] : [])])];
    const [weights, ...targets] = await Promise.all([checks.report(config, want, signal), ...services.map((s) => deps.targets.verifyTargets(ns, s))]);
    const expected = weightMap(want);
    const rules: GatewayRuleReport[] = weights.rules.map((r) => {
      const actual = r.weights ?? {};
      return {
        route: r.route,
        gateway: r.gateway,
        rule: r.rule,
        ruleArn: r.ruleArn ?? null,
        expectedWeights: expected,
        actualWeights: actual,
        // As the verifier judges a rule: an expected Service missing from the forward only matters with weight.
        verified: want.every((w) => !w.service || (actual[w.service] === undefined ? w.weight === 0 : actual[w.service] === w.weight)),
      };
    });
    const routeReasons = [...weights.reasons, ...(weights.error ? [weights.error] : [])];
    const reasons = [...routeReasons, ...targets.flatMap(targetReasons)];
    return {
      rollout: { namespace: ns, name: rollout.metadata.name, strategy: 'canary', desiredWeight: desired },
      verified: weights.verified && !weights.error && targets.every((t) => t.verified),
      reasons: [...new Set(reasons)],
      checkedAt: now().toISOString(),
      ingresses: [],
      gateway: {
        routes: config.routes.map((r) => `${r.namespace}/${r.name}`),
        expectedWeights: expected,
        rules,
        verified: weights.verified && !weights.error,
        reasons: routeReasons,
      },
      targetGroups: targets.flatMap(targetGroupsFrom),
    };
  }

  async function servicesReport(rollout: Rollout, ns: string, ingressNames: string[]): Promise<RolloutReport> {
    const bg = rollout.spec.strategy.blueGreen as BlueGreenStrategy | undefined;
    const canary = rollout.spec.strategy.canary;
    const services = [...new Set([bg?.activeService, bg?.previewService, canary?.stableService, canary?.canaryService].filter((s): s is string => !!s))];
    const [hosts, targets] = await Promise.all([
      Promise.all(ingressNames.map((n) => deps.ingressHostnames(ns, n))),
      Promise.all(services.map((s) => deps.targets.verifyTargets(ns, s))),
    ]);
    const ingresses: IngressReport[] = ingressNames.map((name, i) => {
      const hostname = hosts[i]![0] ?? null;
      return {
        name,
        loadBalancer: { hostname, arn: null, name: null },
        rules: [],
        expectedWeights: {},
        actualWeights: {},
        verified: hostname !== null,
        reasons: hostname === null ? [`Ingress ${ns}/${name} has no load-balancer hostname in its status yet`] : [],
      };
    });
    const reasons = [...ingresses.flatMap((i) => i.reasons), ...targets.flatMap(targetReasons)];
    if (services.length === 0) reasons.push('the Rollout names no Service to check (activeService/previewService)');
    return {
      rollout: { namespace: ns, name: rollout.metadata.name, strategy: bg ? 'blueGreen' : 'canary', desiredWeight: null },
      verified: reasons.length === 0,
      reasons,
      checkedAt: now().toISOString(),
      ingresses,
      targetGroups: targets.flatMap(targetGroupsFrom),
    };
  }

  return {
    getRollout: deps.getRollout,
    async report(rollout: Rollout, opts: ReportOptions): Promise<RolloutReport> {
      const ns = rollout.metadata.namespace || 'default';
      // A changed Rollout (new resourceVersion) never gets an old report.
      const key = [ns, rollout.metadata.name, rollout.metadata.resourceVersion ?? '', ...opts.ingresses].join('|');
      const hit = cache.get(key);
      if (!opts.fresh && hit && now().getTime() - hit.at < ttl) return hit.report;
      const mode = opts.ingresses.length === 0 ? routingMode(rollout, deps.pluginName) : undefined;
      const report =
        mode === undefined
          ? await servicesReport(rollout, ns, opts.ingresses)
          : mode === 'listenerRule'
            ? await listenerRuleReport(rollout, ns)
            : mode === 'gateway'
              ? await gatewayReport(rollout, ns, opts.signal)
              : await canaryReport(rollout, ns);
      cache.delete(key);
      cache.set(key, { at: now().getTime(), report });
      while (cache.size > maxCached) cache.delete(cache.keys().next().value as string);
      return report;
    },
  };
}
