// Plugin.VerifyWeight in Ingress mode: the shared gated verdict path (src/verify/verdict.ts: gate, remember,
// Event, answer) around this mode's check (weight-check.ts, within its deadline in weight-report.ts), which reads
// ELBv2 for every Ingress of the Rollout. The HTTP API runs the same check ungated (`report`).
import type { Elbv2 } from '../../../aws/elbv2.js';
import type { Rollout } from '../../../core/rollout.js';
import type { Logger } from '../../../logger.js';
import { RpcVerified, type VerifyWeightResult } from '../../../plugin/router.js';
import type { EventSink } from '../../../plugin/hooks.js';
import type { WeightVerifier } from '../view.js';
import type { WeightRequest } from '../view.js';
import { rolloutUid, VerifyGate } from '../../../verify/gate.js';
import { gatedVerdict, type VerdictDeps } from '../../../verify/verdict.js';
import { Elbv2Inventory } from './inventory.js';
import type { IngressStatusView } from './weight-check.js';
import { disabledReport, weightReport, type WeightReport } from './weight-report.js';

export interface WeightVerifierDeps {
  /** `--aws-verify-target-group`; off means NotImplemented and no AWS call. */
  enabled: boolean;
  elbv2: Elbv2;
  /** Reads an Ingress (the router's IngressClient.get); throws when it cannot. */
  getIngress(namespace: string, name: string): Promise<IngressStatusView>;
  /** `--alb-tag-key-resource-id`. */
  resourceTagKey: string;
  events?: EventSink;
  log?: Logger;
  /** Deadline of one verification, kept below the RPC timeout (default 20 s). */
  timeoutMs?: number;
  /** Max age of cached listeners and rule discoveries (default 30 s, inventory.ts). */
  discoveryTtlMs?: number;
  now?: () => number;
}

export interface WeightVerifierApi extends WeightVerifier {
  /** Runs the check now, ungated (HTTP API). */
  report(req: WeightRequest): Promise<WeightReport>;
  /** A write changed one of the Rollout's Ingresses: the next VerifyWeight checks again (issue #12 item 5). */
  ingressChanged(rollout: Rollout): void;
}

export function createWeightVerifier(deps: WeightVerifierDeps): WeightVerifierApi {
  const inventory = new Elbv2Inventory({
    elbv2: deps.elbv2,
    resourceTagKey: deps.resourceTagKey,
    ...(deps.discoveryTtlMs !== undefined ? { discoveryTtlMs: deps.discoveryTtlMs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const check = { inventory, getIngress: deps.getIngress, now: deps.now ?? Date.now };
  const gate = new VerifyGate();
  const verdicts: VerdictDeps = { gate, mode: 'ingress', where: 'on the load balancers', events: deps.events, log: deps.log };
  const timeoutMs = deps.timeoutMs ?? 20_000;

  return {
    async verifyWeight(req: WeightRequest): Promise<VerifyWeightResult> {
      if (!deps.enabled) return { verified: RpcVerified.NotImplemented };
      // weightReport keeps its own deadline (and never throws), as the HTTP API's `report` does.
      return gatedVerdict(verdicts, req, { run: (moment) => weightReport(check, req, moment, timeoutMs) });
    },

    ingressChanged(rollout: Rollout): void {
      gate.invalidate(rolloutUid(rollout));
    },

    async report(req: WeightRequest): Promise<WeightReport> {
      return deps.enabled ? weightReport(check, req, 'requested', timeoutMs) : disabledReport(req);
    },
  };
}
