// One weight check of an Ingress-mode Rollout against ELBv2: proves that every load balancer of every
// Ingress carries the weights the Rollout asks for. Cold, one Ingress costs DescribeLoadBalancers +
// DescribeListeners + DescribeRules per listener + DescribeTags, shared with every other Rollout on the same load
// balancer checked at the same time (src/aws/discovery.ts); warm, a whole check is one DescribeRules(RuleArns). "Not verified" is never answered from older data: the listeners and rules are read
// again first, so rules that moved to another listener (HTTPS or ssl-redirect added) or a new host are found
// (issue #12 item 2). Ungated and unjudged: the verifier (weights.ts) decides when to run it and what it means.
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isNotFound } from '../../../aws/elbv2.js';
import type { WeightRequest } from '../view.js';
import { compareRules, type RuleReport } from './compare.js';
import { errorText, isTransientElbv2Failure, type Failure } from '../../../verify/elbv2-failures.js';
import { expectedWeights, type ExpectedIngress, type ExpectedTuple } from './expected.js';
import type { Elbv2Inventory, LoadBalancerRef } from './inventory.js';
import { expectedListenerPorts, type IngressAnnotationsView } from './listen-ports.js';

/** The part of an Ingress the verifier reads: the hostnames the LBC wrote into its status. */
export interface IngressStatusView extends IngressAnnotationsView {
  status?: { loadBalancer?: { ingress?: Array<{ hostname?: string; ip?: string }> } } | null;
}

export interface WeightCheckDeps {
  inventory: Elbv2Inventory;
  /** Reads an Ingress (the router's IngressClient.get); throws when it cannot. */
  getIngress(namespace: string, name: string): Promise<IngressStatusView>;
  now(): number;
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

interface LbWork {
  ingress: ExpectedIngress;
  hostname: string;
  lb: LoadBalancerRef;
  key: string;
  /** The listener ports the Ingress asks for (listen-ports.ts); undefined: not known. */
  ports?: number[];
  report: LoadBalancerWeightReport;
}

async function hostnamesOf(deps: WeightCheckDeps, namespace: string, ingress: string, prefix: string): Promise<{ hosts: string[]; ports?: number[] }> {
  const ing = await deps.getIngress(namespace, ingress);
  const hosts = (ing.status?.loadBalancer?.ingress ?? []).map((e) => e.hostname ?? '').filter((h) => h !== '');
  const ports = expectedListenerPorts(ing, prefix);
  return { hosts: [...new Set(hosts.map((h) => h.toLowerCase()))], ...(ports ? { ports } : {}) };
}

function judge(inventory: Elbv2Inventory, work: LbWork, rules: Rule[], listenerOf: Map<string, string>, fullWeight: number): void {
  const verdict = compareRules(rules, work.ingress.tuples, inventory.resourceIdOf, fullWeight);
  work.report.rules = verdict.rules.map((r) => {
    const listenerArn = listenerOf.get(r.ruleArn);
    return listenerArn ? { ...r, listenerArn } : r;
  });
  work.report.verified = verdict.verified;
  work.report.reasons = verdict.reasons.map((r) => `load balancer ${work.lb.name}: ${r}`);
}

export async function checkIngressWeights(
  deps: WeightCheckDeps,
  req: WeightRequest,
  signal: AbortSignal,
): Promise<{ ingresses: IngressWeightReport[]; errors: Failure[] }> {
  const { inventory } = deps;
  const ns = req.rollout.metadata.namespace ?? 'default';
  const started = deps.now();
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
    let ports: number[] | undefined;
    try {
      ({ hosts, ports } = await hostnamesOf(deps, ns, ing.ingress, req.config.annotationPrefix));
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
        // The ports are part of the key: a listener asked for since the last discovery (listen-ports changed) is
        // looked for at once, not after the discovery's 30 s.
        work.push({ ingress: ing, hostname, lb, key: `${inventory.discoveryKey(lb.arn, ing.ingress, ing.tuples)}|${(ports ?? []).join(',')}`, ...(ports ? { ports } : {}), report: lbReport });
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
        judge(inventory, w, mine, d.listenerOf, req.maxWeight);
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
      const d = await inventory.discover(w.key, w.lb, w.ingress.tuples, ns, req.maxWeight, started, o, readListeners ? started : undefined, w.ports);
      judge(inventory, w, d.rules, d.listenerOf, req.maxWeight);
      if (d.missingPorts.length > 0) {
        w.report.verified = false;
        w.report.reasons.push(
          `load balancer ${w.lb.name}: no rule of the action on a listener of port ${d.missingPorts.join(', ')} yet (the Ingress asks for ${d.missingPorts.length > 1 ? 'them' : 'it'} in listen-ports)`,
        );
      }
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
