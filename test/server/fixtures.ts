// Fakes of the peers the HTTP API reads from (the Rollout getter and the verifier's report function),
// recording what they were asked so tests can check what the route passed on.

import type { ReportOptions, RolloutReport, RolloutReportSource } from '../../src/server/report.js';
import type { Rollout } from '../../src/core/rollout.js';

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
