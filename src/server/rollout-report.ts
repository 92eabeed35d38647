// Builds the HTTP API's RolloutReport. A canary Rollout of this plugin gets its mode's report (src/plugin/mode.ts:
// the weights on the load balancers and the target groups that should carry traffic now); other Rollouts
// (blue-green) name their Ingresses in the request and get the target check of their active and preview
// Services. Reports are cached briefly for dashboards; `/verify` always checks anew.

import { API_BUDGET, inBudget } from '../aws/budget.js';
import type { Rollout } from '../core/rollout.js';
import { currentWeights } from '../core/weights.js';
import type { ModeTable } from '../plugin/mode-table.js';
import type { IngressReport, RolloutReport } from '../plugin/report.js';
import type { TargetsReport } from '../verify/target-health.js';
import { targetGroupsFrom, targetReasons } from '../verify/target-report.js';
import type { ReportOptions, RolloutReportSource } from './report.js';

export interface RolloutReportSourceDeps {
  modes: ModeTable;
  getRollout(namespace: string, name: string, signal: AbortSignal): Promise<Rollout | undefined>;
  /** Target verification (src/verify/target-health.ts), for Rollouts outside the plugin's modes (blue-green). */
  targets: { verifyTargets(namespace: string, service: string): Promise<TargetsReport> };
  /** Hostnames the LBC wrote into an Ingress's status (blue-green reports). */
  ingressHostnames(namespace: string, name: string): Promise<string[]>;
  now?: () => Date;
  /**
   * How long a report may be served again to a request that did not ask for a fresh one (`/verify` always
   * checks anew). Dashboards polling the plain route then cost no extra ELBv2 calls. Default 10 s.
   */
  cacheTtlMs?: number;
  /**
   * Bound on checks per Rollout through the API: a `/verify` within this long of the last check of the same
   * Rollout (and resourceVersion) is answered with that check, and requests arriving while a check runs wait for
   * it. Default 2 s; an AnalysisRun polls far less often.
   */
  minCheckIntervalMs?: number;
  maxCached?: number;
}

interface BlueGreenStrategy {
  activeService?: string;
  previewService?: string;
}

export function createRolloutReportSource(deps: RolloutReportSourceDeps): RolloutReportSource {
  const now = deps.now ?? (() => new Date());
  const ttl = deps.cacheTtlMs ?? 10_000;
  const maxCached = deps.maxCached ?? 500;
  const cache = new Map<string, { at: number; report: RolloutReport }>();
  const minInterval = deps.minCheckIntervalMs ?? 2_000;
  const inflight = new Map<string, Promise<RolloutReport>>();

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
      const age = hit ? now().getTime() - hit.at : Infinity;
      if (age < (opts.fresh ? minInterval : ttl)) return hit!.report;
      const running = inflight.get(key);
      if (running) return running;
      const work = build(rollout, ns, opts, key).finally(() => inflight.delete(key));
      inflight.set(key, work);
      return work;
    },
  };

  async function build(rollout: Rollout, ns: string, opts: ReportOptions, key: string): Promise<RolloutReport> {
    const mode = opts.ingresses.length === 0 ? deps.modes.of(rollout) : undefined;
    let report: RolloutReport;
    if (mode === undefined) report = await inBudget(API_BUDGET, () => servicesReport(rollout, ns, opts.ingresses));
    else {
      // On the API's own ELBv2 budget (src/aws/budget.ts): however often the API is asked, VerifyWeight keeps its tokens.
      const part = await inBudget(API_BUDGET, () => mode.report(rollout, opts.signal));
      report = {
        rollout: { namespace: ns, name: rollout.metadata.name, strategy: 'canary', desiredWeight: currentWeights(rollout).desired },
        verified: part.verified,
        reasons: part.reasons,
        checkedAt: now().toISOString(),
        ingresses: part.ingresses,
        ...(part.listenerRule ? { listenerRule: part.listenerRule } : {}),
        ...(part.gateway ? { gateway: part.gateway } : {}),
        targetGroups: part.targetGroups,
      };
    }
    cache.delete(key);
    cache.set(key, { at: now().getTime(), report });
    while (cache.size > maxCached) cache.delete(cache.keys().next().value as string);
    return report;
  }
}
