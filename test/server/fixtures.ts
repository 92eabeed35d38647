// Fakes of the peers the HTTP API reads from (the Rollout getter and the verifier's report function),
// recording what they were asked so tests can check what the route passed on.

import type { Rollout, WeightDestination } from '../../src/core/rollout.js';
import type { DesiredWeight } from '../../src/core/weights.js';
import type { GatewayConfig } from '../../src/modes/gateway/config.js';
import { gatewayModeReport } from '../../src/modes/gateway/report.js';
import type { GatewayWeightReport } from '../../src/modes/gateway/verify/check.js';
import { ingressModeReport } from '../../src/modes/ingress/report.js';
import type { WeightReport } from '../../src/modes/ingress/verify/weight-report.js';
import type { WeightRequest } from '../../src/modes/ingress/view.js';
import type { ListenerRuleTargetsReport, ListenerRuleWeightReport } from '../../src/modes/listener-rule/reports.js';
import { listenerRuleModeReport } from '../../src/modes/listener-rule/report.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import type { RolloutReport } from '../../src/plugin/report.js';
import type { ReportOptions, RolloutReportSource } from '../../src/server/report.js';
import { createRolloutReportSource } from '../../src/server/rollout-report.js';
import type { TargetsReport } from '../../src/verify/target-health.js';
import { testModeTable } from '../support/cleanup.js';

export const PLUGIN = 'argoproj-labs/alb';

export function canaryRollout(name: string, namespace = 'shop'): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace, uid: `uid-${name}` },
    spec: {
      strategy: {
        canary: {
          canaryService: 'app-canary',
          stableService: 'app-stable',
          trafficRouting: { plugins: { [PLUGIN]: { ingress: 'app', servicePort: 80 } } },
          steps: [{ setWeight: 20 }, { pause: {} }],
        },
      },
    },
    status: { currentStepIndex: 0 },
  };
}

export function blueGreenRollout(name: string, namespace = 'shop'): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace },
    spec: { strategy: { blueGreen: { activeService: 'app-active', previewService: 'app-preview' } } },
  };
}

export function report(rollout: Rollout, verified: boolean): RolloutReport {
  const actual = verified ? { 'app-canary': 20, 'app-stable': 80 } : { 'app-canary': 0, 'app-stable': 100 };
  const reasons = verified ? [] : ['Ingress app: canary weight 20 not yet set (current: 0)'];
  return {
    rollout: {
      namespace: rollout.metadata.namespace ?? 'default',
      name: rollout.metadata.name,
      strategy: rollout.spec.strategy.canary ? 'canary' : 'blueGreen',
      desiredWeight: rollout.spec.strategy.canary ? 20 : null,
    },
    verified,
    reasons,
    checkedAt: '2026-11-21T14:00:00.000Z',
    ingresses: [
      {
        name: 'app',
        loadBalancer: {
          hostname: 'k8s-shop-app-0123456789-1234567890.eu-west-1.elb.amazonaws.com',
          arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-shop-app-0123456789/50dc6c495c0c9188',
          name: 'k8s-shop-app-0123456789',
        },
        rules: [
          {
            arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/k8s-shop-app-0123456789/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee',
            listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/k8s-shop-app-0123456789/50dc6c495c0c9188/f2f7dc8efc522ab2',
            priority: '1',
            expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
            actualWeights: actual,
            verified,
          },
        ],
        expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
        actualWeights: actual,
        verified,
        reasons,
      },
    ],
    targetGroups: [
      {
        service: 'app-canary',
        targetGroupBinding: 'k8s-shop-appcanar-0f1e2d3c4b',
        arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-shop-appcanar-0f1e2d3c4b/aaaaaaaaaaaaaaaa',
        expectedTargets: 2,
        registeredTargets: 2,
        healthyTargets: verified ? 2 : 1,
        verified,
        reasons: verified ? [] : ['1/2 targets healthy'],
      },
    ],
  };
}

export interface FakeSource extends RolloutReportSource {
  rollouts: Map<string, Rollout>;
  calls: Array<{ rollout: string; opts: Omit<ReportOptions, 'signal'> }>;
  verified: boolean;
  failWith?: Error;
  hang?: boolean;
}

export function fakeSource(rollouts: Rollout[]): FakeSource {
  const src: FakeSource = {
    rollouts: new Map(rollouts.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r])),
    calls: [],
    verified: true,
    async getRollout(namespace, name) {
      return src.rollouts.get(`${namespace}/${name}`);
    },
    async report(rollout, opts) {
      src.calls.push({ rollout: rollout.metadata.name, opts: { fresh: opts.fresh, ingresses: opts.ingresses } });
      if (src.failWith) throw src.failWith;
      if (src.hang) {
        await new Promise((resolve) => opts.signal.addEventListener('abort', resolve, { once: true }));
        throw new Error('aborted');
      }
      return report(rollout, src.verified);
    },
  };
  return src;
}

/** The checks each mode's report is made of (their real shapes), faked or real per test. */
export interface ReportChecks {
  weights: { report(req: WeightRequest): Promise<WeightReport> };
  targets: { verifyTargets(namespace: string, service: string): Promise<TargetsReport> };
  ingressHostnames(namespace: string, name: string): Promise<string[]>;
  listenerRule?: {
    weightReport(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[]): Promise<ListenerRuleWeightReport>;
    targetsReport?(rollout: Rollout): Promise<ListenerRuleTargetsReport>;
  };
  gateway?: { report(config: GatewayConfig, desired: DesiredWeight[], signal?: AbortSignal): Promise<GatewayWeightReport> };
}

export interface ReportSourceOptions extends ReportChecks {
  pluginName: string;
  getRollout(namespace: string, name: string, signal: AbortSignal): Promise<Rollout | undefined>;
  now?: () => Date;
  cacheTtlMs?: number;
  minCheckIntervalMs?: number;
}

/**
 * The HTTP API's report source over the modes' real report functions (src/modes/<mode>/report.ts), their checks
 * as given; the mode table is the sidecar's rule (testModeTable). A mode without its checks fails its report.
 */
export function reportSourceOver(opts: ReportSourceOptions): RolloutReportSource {
  const base = testModeTable(opts.pluginName, {});
  const missing = (what: string) => () => Promise.reject(new Error(`${what} mode checks not given to this test`));
  const modes = base.modes.map((m) => {
    if (m.name === 'ingress') return { ...m, report: (r: Rollout) => ingressModeReport({ pluginName: opts.pluginName, weights: opts.weights, targets: opts.targets }, r) };
    if (m.name === 'listener-rule') {
      const lr = opts.listenerRule;
      return { ...m, report: lr ? (r: Rollout) => listenerRuleModeReport(lr, r) : missing('listener-rule') };
    }
    const gw = opts.gateway;
    return {
      ...m,
      report: gw
        ? (r: Rollout, signal: AbortSignal) => gatewayModeReport({ pluginName: opts.pluginName, report: (c, d, s2) => gw.report(c, d, s2), targets: opts.targets }, r, signal)
        : missing('Gateway'),
    };
  });
  return createRolloutReportSource({
    modes: new ModeTable(opts.pluginName, modes),
    getRollout: opts.getRollout,
    targets: opts.targets,
    ingressHostnames: opts.ingressHostnames,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.cacheTtlMs !== undefined ? { cacheTtlMs: opts.cacheTtlMs } : {}),
    ...(opts.minCheckIntervalMs !== undefined ? { minCheckIntervalMs: opts.minCheckIntervalMs } : {}),
  });
}
