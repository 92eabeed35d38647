// Plugin.VerifyWeight in Gateway mode: does the ALB the LBC built from the Gateway carry the weights of the driven
// route rules? The design is docs/gateway-api-facts.md §9.1; the parts are here:
//   * discovery.ts: the load balancer, listener ports, target groups and rule conditions, from Kubernetes;
//   * rule-cache.ts: the rule ARNs and target-group tags remembered between checks (warm: one DescribeRules);
//   * check.ts: one check and its report (hostnames.ts: the LBC's hostnames per listener);
//   * the shared gated verdict path (src/verify/verdict.ts): gate, remember, Event, answer, as in every mode.
// This file puts them together: VerifyWeight, the routers' `invalidate` after a write, the header-route check
// (`carries`) and the HTTP API's ungated `report`.

import type { Elbv2 } from '../../../aws/elbv2.js';
import type { Rollout } from '../../../core/rollout.js';
import type { DesiredWeight } from '../../../core/weights.js';
import type { Logger } from '../../../logger.js';
import type { EventSink } from '../../../plugin/hooks.js';
import { RpcVerified } from '../../../plugin/router.js';
import { rolloutUid, VerifyGate } from '../../../verify/gate.js';
import { gatedVerdict, type VerdictDeps } from '../../../verify/verdict.js';
import type { HTTPRouteClient } from '../client.js';
import type { GatewayConfig } from '../config.js';
import type { GatewayReader } from '../k8s.js';
import type { GatewayWeightVerifier } from '../router.js';
import { checkGatewayWeights, type GatewayWeightReport } from './check.js';
import { GatewayRuleCache } from './rule-cache.js';

export interface GatewayVerifierDeps {
  /** `--aws-verify-target-group`; off means NotImplemented and no AWS call, as in Ingress mode. */
  enabled: boolean;
  elbv2: Elbv2;
  routes: HTTPRouteClient;
  gateways: GatewayReader;
  events?: EventSink;
  log?: Logger;
  /** Deadline of one verification (default 20 s). */
  timeoutMs?: number;
}

export interface GatewayVerifierApi extends GatewayWeightVerifier {
  /** Runs the check now, ungated (HTTP API). */
  report(config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal): Promise<GatewayWeightReport>;
}

export function createGatewayVerifier(deps: GatewayVerifierDeps): GatewayVerifierApi {
  const gate = new VerifyGate();
  const verdicts: VerdictDeps = { gate, mode: 'gateway', where: "on the Gateway's load balancer", events: deps.events, log: deps.log };
  const timeoutMs = deps.timeoutMs ?? 20_000;
  const cache = new GatewayRuleCache(deps.elbv2);
  const discovery = { elbv2: deps.elbv2, routes: deps.routes, gateways: deps.gateways, resourceTags: cache.resourceTags.bind(cache) };
  const check = (config: GatewayConfig, desired: DesiredWeight[], signal: AbortSignal) => checkGatewayWeights({ discovery, cache }, config, desired, signal);
  /** The verification's deadline, and the caller's (the RPC call's) when there is one. */
  const within = (signal?: AbortSignal) => (signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]) : AbortSignal.timeout(timeoutMs));

  return {
    async verifyWeight(step, config, desired, call) {
      if (!deps.enabled) return { verified: RpcVerified.NotImplemented };
      return gatedVerdict(verdicts, step, {
        deadline: () => within(call?.signal),
        run: (_moment, signal) => check(config, desired, signal),
        logFields: (report) => ({ elbv2Calls: report.elbv2Calls }),
      });
    },
    invalidate(rollout: Rollout): void {
      gate.invalidate(rolloutUid(rollout));
    },
    async carries(config, desired, signal) {
      if (!deps.enabled) return { ok: true };
      const report = await check(config, desired, within(signal));
      // A configuration problem is VerifyWeight's to report; it must not hold header routes for good.
      if (report.error && !report.transient) return { ok: true };
      return report.verified ? { ok: true } : { ok: false, why: report.error ?? report.reasons[0] ?? 'not verified' };
    },
    report(config, desired, signal) {
      return check(config, desired, signal ?? AbortSignal.timeout(timeoutMs));
    },
  };
}
