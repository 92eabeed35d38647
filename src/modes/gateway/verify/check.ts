// One Gateway-mode weight check and its report: the units from Kubernetes (discovery.ts), their ALB rules warm or
// cold (rule-cache.ts), each rule's forward weights against the desired ones per Service (alb-rules.ts). VerifyWeight
// judges the report (src/verify/verdict.ts), the header-route check asks whether the ALB carries the route's
// weights, and the HTTP API serves it (report.ts). Never throws: a failure is the report's `error`.

import { forwardWeights, weightReasons } from '../alb-rules.js';
import type { DesiredWeight } from '../../../core/weights.js';
import { errorText, thrownFailure } from '../../../verify/elbv2-failures.js';
import type { VerdictReport } from '../../../verify/verdict.js';
import type { GatewayConfig, RouteKind } from '../config.js';
import { discoverUnits, GatewayConfigProblem, type CallCounter, type DiscoveryDeps } from './discovery.js';
import type { GatewayRuleCache } from './rule-cache.js';

export interface GatewayRuleReport {
  route: string;
  routeKind: RouteKind;
  gateway: string;
  rule: string;
  ruleArn?: string;
  weights?: Record<string, number>;
  /** Target group ARN by Service, as the LBC's TargetGroupBindings for the Gateway name them. */
  targetGroups?: Record<string, string>;
}

export interface GatewayWeightReport extends VerdictReport {
  /** A failure (not "not yet"); `transient` when it passes by itself, false for a configuration problem. */
  error?: string;
  transient?: boolean;
  rules: GatewayRuleReport[];
  /** ELBv2 calls this check made (the warm path makes one). */
  elbv2Calls: number;
}

export interface GatewayCheckDeps {
  discovery: DiscoveryDeps;
  cache: GatewayRuleCache;
  /** The shared discovery's clock: a cold read is never older than the check's start. */
  now(): number;
}

export async function checkGatewayWeights(deps: GatewayCheckDeps, config: GatewayConfig, desired: DesiredWeight[], signal: AbortSignal): Promise<GatewayWeightReport> {
  const started = deps.now();
  const counter: CallCounter = { calls: 0 };
  const reasons: string[] = [];
  const report: GatewayWeightReport = { verified: false, reasons, rules: [], elbv2Calls: 0 };
  try {
    const units = await discoverUnits(deps.discovery, config, desired, counter, reasons, signal);
    const warm = await deps.cache.warm(units, counter, signal);
    for (const u of units) {
      let rules = warm.get(u.key);
      if (!rules) {
        const cold = await deps.cache.cold(u, counter, signal, started);
        if ('missing' in cold) {
          reasons.push(`load balancer of Gateway ${u.gateway}: no ALB rule for ${u.routeLabel} ${cold.missing.join(', ')} yet`);
          continue;
        }
        rules = cold.rules;
      }
      rules.forEach((list, i) =>
        list.forEach((r) => {
          const where = `load balancer of Gateway ${u.gateway}, ${u.routeLabel} ${u.rules[i]!.label}`;
          reasons.push(...weightReasons(r, u.expected, where));
          report.rules.push({
            route: u.route,
            routeKind: u.routeKind,
            gateway: u.gateway,
            rule: u.rules[i]!.label,
            ruleArn: r.RuleArn!,
            weights: Object.fromEntries([...forwardWeights(r)].map(([arn, w]) => [u.services.get(arn) ?? arn, w])),
            targetGroups: Object.fromEntries([...u.services].map(([arn, svc]) => [svc, arn])),
          });
        }),
      );
    }
    report.verified = reasons.length === 0 && units.length > 0;
  } catch (err) {
    // A configuration problem stays one whatever else holds; any other failure is judged as in every mode.
    const failure = err instanceof GatewayConfigProblem ? { error: errorText(err) } : thrownFailure(err, signal);
    report.error = failure.error;
    report.transient = failure.transient === true;
  }
  report.elbv2Calls = counter.calls;
  return report;
}
