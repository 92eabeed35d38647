// Gateway mode's part of the HTTP API report: the ALB rules the LBC built from the driven HTTPRoute rules against
// the current step's weights (the Gateway verifier's `report`) and the target check of the Services that should
// carry traffic now (the LBC's TargetGroupBindings for the Gateway name the Services as Ingress mode's do).

import type { Rollout } from '../../core/rollout.js';
import { currentWeights, desiredWeights, stableWeight, type DesiredWeight } from '../../core/weights.js';
import type { GatewayRuleReport, ModeReport } from '../../plugin/report.js';
import type { TargetsReport } from '../../verify/target-health.js';
import { reportVerdict, servicesCarryingTraffic, targetGroupsFrom, targetReasons, weightMap } from '../../verify/target-report.js';
import { parseGatewayConfig, type GatewayConfig } from './config.js';
import type { GatewayWeightReport } from './verify/check.js';

export interface GatewayReportDeps {
  pluginName: string;
  report(config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal): Promise<GatewayWeightReport>;
  targets: { verifyTargets(namespace: string, service: string): Promise<TargetsReport> };
}

export async function gatewayModeReport(deps: GatewayReportDeps, rollout: Rollout, signal: AbortSignal): Promise<ModeReport> {
  const ns = rollout.metadata.namespace || 'default';
  const config = parseGatewayConfig(rollout, deps.pluginName);
  const { desired, additional } = currentWeights(rollout);
  const want = desiredWeights({ desiredWeight: desired, additionalDestinations: additional, maxWeight: config.maxWeight, services: config.services });
  const stable = stableWeight({ maxWeight: config.maxWeight, desiredWeight: desired, additionalDestinations: additional });
  const services = servicesCarryingTraffic(config.services, stable, desired);
  const [weights, ...targets] = await Promise.all([deps.report(config, want, signal), ...services.map((s) => deps.targets.verifyTargets(ns, s))]);
  const expected = weightMap(want);
  const rules: GatewayRuleReport[] = weights.rules.map((r) => {
    const actual = r.weights ?? {};
    return {
      route: r.route,
      routeKind: r.routeKind,
      gateway: r.gateway,
      rule: r.rule,
      ruleArn: r.ruleArn ?? null,
      expectedWeights: expected,
      actualWeights: actual,
      // As the verifier judges a rule: an expected Service missing from the forward only matters with weight.
      verified: want.every((w) => !w.service || (actual[w.service] === undefined ? w.weight === 0 : actual[w.service] === w.weight)),
    };
  });
  const verdict = reportVerdict(weights, targets, targets.flatMap(targetReasons));
  return {
    ...verdict.whole,
    ingresses: [],
    gateway: { ...routeLists(config), expectedWeights: expected, rules, ...verdict.weights },
    targetGroups: targets.flatMap(targetGroupsFrom),
  };
}

/** The routes as the report names them: HTTPRoutes under `routes`, GRPCRoutes (if any) under `grpcRoutes`. */
function routeLists(config: GatewayConfig): { routes: string[]; grpcRoutes?: string[] } {
  const of = (kind: string) => config.routes.filter((r) => r.kind === kind).map((r) => `${r.namespace}/${r.name}`);
  const grpc = of('GRPCRoute');
  return { routes: of('HTTPRoute'), ...(grpc.length > 0 ? { grpcRoutes: grpc } : {}) };
}
