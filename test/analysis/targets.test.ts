// From a mode's AlbTargets (ARNs) to the analysis's targets (CloudWatch dimension forms): what is compared,
// what is left out and why.
import { describe, expect, it } from 'vitest';
import { analysisTargets } from '../../src/analysis/targets.js';

const ARN = 'arn:aws:elasticloadbalancing:eu-central-1:123456789012';
const LB = `${ARN}:loadbalancer/app/k8s-demo-shop-0123456789/50dc6c495c0c9188`;
const NLB = `${ARN}:loadbalancer/net/k8s-demo-tcp-0123456789/60dc6c495c0c9188`;
const CANARY = `${ARN}:targetgroup/k8s-demo-canary-73e2d6bc24/73e2d6bc24d8a067`;
const STABLE = `${ARN}:targetgroup/k8s-demo-stable-0a1b2c3d4e/0a1b2c3d4e5f6a7b`;

describe('analysisTargets', () => {
  it('ARNs become app/<name>/<id> and targetgroup/<name>/<id>; a pair listed twice is kept once', () => {
    const one = { loadBalancerArn: LB, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE };
    expect(analysisTargets([{ ...one, ingress: 'a' }, { ...one, ingress: 'b' }])).toEqual({
      targets: [
        {
          loadBalancer: 'app/k8s-demo-shop-0123456789/50dc6c495c0c9188',
          canaryTargetGroup: 'targetgroup/k8s-demo-canary-73e2d6bc24/73e2d6bc24d8a067',
          stableTargetGroup: 'targetgroup/k8s-demo-stable-0a1b2c3d4e/0a1b2c3d4e5f6a7b',
        },
      ],
      skipped: [],
    });
  });

  it('leaves out, with the reason, what cannot be compared', () => {
    const out = analysisTargets([
      { ingress: 'shop', loadBalancerArn: LB, stableTargetGroupArn: STABLE },
      { loadBalancerArn: LB, canaryTargetGroupArn: CANARY },
      { loadBalancerArn: NLB, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE },
      { loadBalancerArn: LB, canaryTargetGroupArn: 'sg-123', stableTargetGroupArn: STABLE },
      { loadBalancerArn: LB, canaryTargetGroupArn: STABLE, stableTargetGroupArn: STABLE },
    ]);
    expect(out.targets).toEqual([]);
    expect(out.skipped).toEqual([
      'k8s-demo-shop-0123456789 (Ingress shop): no canary target group',
      'k8s-demo-shop-0123456789: no stable target group',
      `k8s-demo-tcp-0123456789: its ARN "${NLB}" is not an Application Load Balancer's`,
      'k8s-demo-shop-0123456789: canary "sg-123" is not a target group ARN',
      'k8s-demo-shop-0123456789: canary and stable forward to the same target group k8s-demo-stable-0a1b2c3d4e',
    ]);
  });
});
