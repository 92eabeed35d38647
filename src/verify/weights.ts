// Plugin.VerifyWeight: proves from the ELBv2 API that every load balancer of every Ingress carries the
// weights the Rollout asks for. Cold, one Ingress costs DescribeLoadBalancers + DescribeListeners +
// DescribeRules per listener + DescribeTags; warm, a whole verification is one DescribeRules(RuleArns).
// "Not verified" is never answered from older data: the listeners and rules are read again first, so rules
// that moved to another listener (HTTPS or ssl-redirect added) or a new host are found (issue #12 item 2).
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { REASON_LOAD_BALANCER_NOT_FOUND, REASON_WEIGHT_UNVERIFIED, REASON_WEIGHT_VERIFIED } from '../events/reasons.js';
import { awsErrorCode, isNotFound, isThrottling, ThrottledError, type Elbv2 } from '../aws/elbv2.js';
import type { Logger } from '../logger.js';
import { RpcVerified, type VerifyWeightResult } from '../trafficrouter/router.js';
import type { Rollout } from '../core/rollout.js';
import { stableWeight } from '../core/weights.js';
import type { EventSink, WeightVerifier } from '../trafficrouter/types.js';
import type { WeightRequest } from '../trafficrouter/view.js';
import { compareRules, type RuleReport } from './compare.js';
import { expectedWeights, type ExpectedIngress, type ExpectedTuple } from './expected.js';
import { rolloutUid, VerifyGate, type VerifyMoment } from './gate.js';
import { Elbv2Inventory, type LoadBalancerRef } from './inventory.js';

/** The part of an Ingress the verifier reads: the hostnames the LBC wrote into its status. */
export interface IngressStatusView {
  status?: { loadBalancer?: { ingress?: Array<{ hostname?: string; ip?: string }> } } | null;
}

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

export interface LoadBalancerWeightReport {
  hostname: string;
  name?: string;
  arn?: string;
  /** Why this load balancer carries no weights to check (the LBC's optional frontend NLB). */
  skipped?: string;
  verified: boolean;
  reasons: string[];
  rules: RuleReport[];
}

export interface IngressWeightReport {
  ingress: string;
  verified: boolean;
  reasons: string[];
  expected: ExpectedTuple[];
  loadBalancers: LoadBalancerWeightReport[];
}

/** JSON-friendly result of one weight check, also served by the HTTP API. */
export interface WeightReport {
  rollout: string;
  verified: boolean;
  desiredWeight: number;
  maxWeight: number;
  /** Why the check ran, or why it did not (`disabled`, `gated`, `remembered`). */
  moment: VerifyMoment | 'disabled' | 'gated' | 'remembered' | 'requested';
  reasons: string[];
  /** Set when the check could not finish (AWS error, throttling, deadline). */
  error?: string;
  /**
   * The check could not finish for a reason that passes by itself (throttled past the retries, deadline,
   * 5xx, connection reset): VerifyWeight answers NotVerified without Err, so Argo asks again in 10 s.
   */
  transient?: boolean;
  ingresses: IngressWeightReport[];
}

export interface WeightVerifierApi extends WeightVerifier {
  /** Runs the check now, ungated (HTTP API). */
  report(req: WeightRequest): Promise<WeightReport>;
  /** A write changed one of the Rollout's Ingresses: the next VerifyWeight checks again (issue #12 item 5). */
  ingressChanged(rollout: Rollout): void;
}

interface LbWork {
  ingress: ExpectedIngress;
  hostname: string;
  lb: LoadBalancerRef;
  key: string;
  report: LoadBalancerWeightReport;
}

/** AWS error codes of server-side trouble that passes by itself (5xx answers carry them). */
const TRANSIENT_CODES = new Set([
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
  'PriorRequestNotComplete',
  'TimeoutError',
  'AbortError',
]);
/** Network errors that say nothing about the configuration (a wrong endpoint gives ENOTFOUND or ECONNREFUSED). */
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * Whether an ELBv2 failure passes by itself: throttled past the retries, a 5xx answer, a timeout or reset
 * connection, or something that went away while we looked (NotFound: the next check looks it up again).
 * Everything else (AccessDenied, ValidationError, bad credentials, a wrong endpoint) is a configuration
 * error, and stays one until someone fixes it.
 */
export function isTransientElbv2Failure(err: unknown): boolean {
  if (err instanceof ThrottledError || isThrottling(err) || isNotFound(err)) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { $metadata?: { httpStatusCode?: number }; $fault?: unknown; code?: unknown; name?: unknown };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const code = awsErrorCode(err);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  return typeof e.code === 'string' && TRANSIENT_NETWORK.has(e.code);
}

interface Failure {
  text: string;
  transient: boolean;
}

function errorText(err: unknown): string {
  // Only SDK errors carry an AWS code worth showing; a plain Error's name says nothing.
  const code = typeof err === 'object' && err !== null && '$metadata' in err ? awsErrorCode(err) : undefined;
  const msg = err instanceof Error ? err.message : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

export function createWeightVerifier(deps: WeightVerifierDeps): WeightVerifierApi {
  const inventory = new Elbv2Inventory({
    elbv2: deps.elbv2,
    resourceTagKey: deps.resourceTagKey,
    ...(deps.discoveryTtlMs !== undefined ? { discoveryTtlMs: deps.discoveryTtlMs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const gate = new VerifyGate();
  const timeoutMs = deps.timeoutMs ?? 20_000;
  const now = deps.now ?? Date.now;

  async function hostnamesOf(namespace: string, ingress: string): Promise<string[]> {
    const ing = await deps.getIngress(namespace, ingress);
    const hosts = (ing.status?.loadBalancer?.ingress ?? []).map((e) => e.hostname ?? '').filter((h) => h !== '');
    return [...new Set(hosts.map((h) => h.toLowerCase()))];
  }

  function judge(work: LbWork, rules: Rule[], listenerOf: Map<string, string>, fullWeight: number): void {
    const verdict = compareRules(rules, work.ingress.tuples, inventory.resourceIdOf, fullWeight);
    work.report.rules = verdict.rules.map((r) => {
      const listenerArn = listenerOf.get(r.ruleArn);
      return listenerArn ? { ...r, listenerArn } : r;
    });
    work.report.verified = verdict.verified;
    work.report.reasons = verdict.reasons.map((r) => `load balancer ${work.lb.name}: ${r}`);
  }

  async function check(req: WeightRequest, signal: AbortSignal): Promise<{ ingresses: IngressWeightReport[]; errors: Failure[] }> {
    const ns = req.rollout.metadata.namespace ?? 'default';
    const started = now();
    const expected = expectedWeights(req);
    const errors: Failure[] = [];
    // ELBv2 failures may pass by themselves; an Ingress that cannot be read is reported as it is.
    const elbv2Failure = (where: string, err: unknown): Failure => ({ text: `${where}: ${errorText(err)}`, transient: isTransientElbv2Failure(err) });
    const reports: IngressWeightReport[] = [];
    const work: LbWork[] = [];
    const o = { signal };

    // 1. Hostnames and load balancers, for every Ingress (no early return: each gets a report).
    for (const ing of expected) {
      const report: IngressWeightReport = { ingress: ing.ingress, verified: false, reasons: [], expected: ing.tuples, loadBalancers: [] };
      reports.push(report);
      let hosts: string[];
      try {
        hosts = await hostnamesOf(ns, ing.ingress);
      } catch (err) {
        errors.push({ text: `Ingress ${ns}/${ing.ingress}: ${errorText(err)}`, transient: false });
        continue;
      }
      if (hosts.length === 0) {
        report.reasons.push(`Ingress ${ns}/${ing.ingress} has no load-balancer hostname in its status yet`);
        continue;
      }
      for (const hostname of hosts) {
        const lbReport: LoadBalancerWeightReport = { hostname, verified: false, reasons: [], rules: [] };
        report.loadBalancers.push(lbReport);
        try {
          const lb = await inventory.loadBalancer(hostname, o);
          if (!lb) {
            lbReport.reasons.push(`no load balancer found for hostname ${hostname}`);
            continue;
          }
          lbReport.name = lb.name;
          lbReport.arn = lb.arn;
          if (lb.type !== undefined && lb.type !== 'application') {
            // The frontend NLB forwards to the ALB; it has no weighted rules of its own.
            lbReport.skipped = `${lb.type} load balancer: no weighted listener rules to check`;
            lbReport.verified = true;
            continue;
          }
          work.push({ ingress: ing, hostname, lb, key: inventory.discoveryKey(lb.arn, ing.ingress, ing.tuples), report: lbReport });
        } catch (err) {
          errors.push(elbv2Failure(`Ingress ${ns}/${ing.ingress}, hostname ${hostname}`, err));
        }
      }
    }

    // 2. Warm: every known rule in one DescribeRules(RuleArns) call.
    const cached = new Map(work.map((w) => [w, inventory.cachedRules(w.key)]));
    const warm = work.filter((w) => cached.get(w));
    const cold = work.filter((w) => !cached.get(w));
    // Rules that went away or stopped carrying the action: the listeners may have changed too.
    const invalidated = new Set<LbWork>();
    // `fresh`: judged on listeners and rules read during this verification; `failed`: no judgement at all.
    const fresh = new Set<LbWork>();
    const failed = new Set<LbWork>();
    if (warm.length > 0) {
      const arns = warm.flatMap((w) => cached.get(w)!.ruleArns);
      try {
        const rules = await inventory.rulesByArn(arns, o);
        const byArn = new Map(rules.map((r) => [r.RuleArn, r]));
        const tgArns = rules.flatMap((r) =>
          (r.Actions ?? []).flatMap((a) => [
            ...(a.TargetGroupArn ? [a.TargetGroupArn] : []),
            ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn ?? ''),
          ]),
        ).filter((a) => a !== '');
        for (const w of warm) {
          const d = cached.get(w)!;
          await inventory.learnTags(tgArns, w.ingress.tuples, ns, o);
          const mine = d.ruleArns.map((a) => byArn.get(a)).filter((r): r is Rule => !!r);
          judge(w, mine, d.listenerOf, req.maxWeight);
          // A cached rule that no longer forwards to the action (LBC recreated it): look again.
          if (w.report.rules.length < d.ruleArns.length) {
            inventory.forget(w.key);
            invalidated.add(w);
            cold.push(w);
          }
        }
      } catch (err) {
        if (isNotFound(err)) {
          // RuleNotFound: a rule was deleted or recreated; rediscover those load balancers.
          for (const w of warm) {
            inventory.forget(w.key);
            invalidated.add(w);
            cold.push(w);
          }
        } else {
          errors.push(elbv2Failure(`load balancers ${[...new Set(warm.map((w) => w.lb.name))].join(', ')}`, err));
          for (const w of warm) {
            failed.add(w);
            w.report.reasons.push(errorText(err));
          }
        }
      }
    }

    // 3. Cold: discover the rules of the action on each load balancer.
    async function discoverAndJudge(w: LbWork, readListeners: boolean): Promise<void> {
      try {
        const d = await inventory.discover(w.key, w.lb, w.ingress.tuples, ns, req.maxWeight, o, readListeners ? started : undefined);
        judge(w, d.rules, d.listenerOf, req.maxWeight);
        if (d.listenersAt >= started) fresh.add(w);
      } catch (err) {
        if (isNotFound(err)) inventory.forgetLoadBalancer(w.hostname, w.lb.arn);
        failed.add(w);
        errors.push(elbv2Failure(`Ingress ${ns}/${w.ingress.ingress}, load balancer ${w.lb.name}`, err));
        w.report.reasons.push(errorText(err));
      }
    }
    for (const w of cold) await discoverAndJudge(w, invalidated.has(w));

    // 4. "Not verified" from cached rule ARNs or a cached listener list: read the listeners and their
    // rules once more before saying so (rules moved to a new listener, a host or path was added).
    for (const w of work) {
      if (w.report.verified || fresh.has(w) || failed.has(w)) continue;
      inventory.forget(w.key);
      await discoverAndJudge(w, true);
    }

    for (const r of reports) {
      r.reasons.push(...r.loadBalancers.flatMap((lb) => lb.reasons));
      r.verified =
        r.loadBalancers.some((lb) => lb.verified && !lb.skipped) &&
        r.loadBalancers.every((lb) => lb.verified) &&
        r.reasons.length === 0;
    }
    return { ingresses: reports, errors };
  }

  async function run(req: WeightRequest, moment: WeightReport['moment']): Promise<WeightReport> {
    const base = {
      rollout: `${req.rollout.metadata.namespace ?? 'default'}/${req.rollout.metadata.name}`,
      desiredWeight: req.desiredWeight,
      maxWeight: req.maxWeight,
      moment,
    };
    const signal = AbortSignal.timeout(timeoutMs);
    const deadline = `no complete answer from ELBv2 within ${timeoutMs} ms (slow or throttled)`;
    try {
      const { ingresses, errors } = await check(req, signal);
      const reasons = ingresses.flatMap((i) => i.reasons);
      const verified = errors.length === 0 && ingresses.length > 0 && ingresses.every((i) => i.verified);
      if (errors.length === 0) return { ...base, verified, reasons, ingresses };
      if (signal.aborted) return { ...base, verified, reasons, ingresses, error: deadline, transient: true };
      const transient = errors.every((e) => e.transient);
      return { ...base, verified, reasons, ingresses, error: errors.map((e) => e.text).join('; '), ...(transient ? { transient } : {}) };
    } catch (err) {
      const text = signal.aborted ? deadline : errorText(err);
      const transient = signal.aborted || isTransientElbv2Failure(err);
      return { ...base, verified: false, reasons: [], ingresses: [], error: text, ...(transient ? { transient } : {}) };
    }
  }

  function emit(req: WeightRequest, report: WeightReport): void {
    if (!deps.events) return;
    if (report.verified) {
      deps.events.emit(req.rollout, {
        type: 'Normal',
        reason: REASON_WEIGHT_VERIFIED,
        message: `Weights verified on the load balancers: canary ${req.desiredWeight}, stable ${stableWeight(req)}`,
      });
    } else if (report.error && report.transient) {
      deps.events.emit(req.rollout, { type: 'Warning', reason: REASON_WEIGHT_UNVERIFIED, message: `${report.error}; checking again` });
    } else if (report.reasons.length > 0) {
      const lbMissing = report.reasons.find((r) => r.startsWith('no load balancer found'));
      deps.events.emit(req.rollout, {
        type: 'Warning',
        reason: lbMissing ? REASON_LOAD_BALANCER_NOT_FOUND : REASON_WEIGHT_UNVERIFIED,
        message: report.reasons[0]!,
      });
    }
  }

  return {
    async verifyWeight(req: WeightRequest): Promise<VerifyWeightResult> {
      if (!deps.enabled) return { verified: RpcVerified.NotImplemented };
      const decision = gate.decide(req);
      if (decision.kind === 'remembered') return { verified: RpcVerified.Verified };
      if (decision.kind === 'skip') return { verified: RpcVerified.NotImplemented };
      const uid = gate.uidOf(req);
      const writes = gate.writesOf(uid);
      const report = await run(req, decision.moment);
      gate.record(uid, decision.key, report.verified ? 'verified' : 'pending', writes);
      deps.log?.debug({ rollout: report.rollout, moment: report.moment, verified: report.verified, reasons: report.reasons, error: report.error }, 'weight verification');
      emit(req, report);
      if (report.verified) return { verified: RpcVerified.Verified };
      // "Not yet" answers carry no Err so Argo re-queues after 10 s (argo-alb-spec.md §7.6: after an Err it
      // waits for the next resync). So do failures that pass by themselves; an Err is for configuration errors.
      return report.error && !report.transient
        ? { verified: RpcVerified.NotVerified, err: `weight verification failed: ${report.error}` }
        : { verified: RpcVerified.NotVerified };
    },

    ingressChanged(rollout: Rollout): void {
      gate.invalidate(rolloutUid(rollout));
    },

    async report(req: WeightRequest): Promise<WeightReport> {
      if (!deps.enabled) {
        return {
          rollout: `${req.rollout.metadata.namespace ?? 'default'}/${req.rollout.metadata.name}`,
          verified: false,
          desiredWeight: req.desiredWeight,
          maxWeight: req.maxWeight,
          moment: 'disabled',
          reasons: ['AWS verification is off (--aws-verify-target-group)'],
          ingresses: [],
        };
      }
      return run(req, 'requested');
    },
  };
}
