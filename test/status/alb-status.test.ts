// status.alb(s) byte for byte as Argo's built-in router fills them (rollout/trafficrouting/alb/alb.go v1.10.1:
// updateLoadBalancerStatus, updateTargetGroupStatus, one entry per Ingress, `alb` the last one).
import { describe, expect, it } from 'vitest';
import { albStatusFields, albStatusOf, sameAlbStatus } from '../../src/status/alb-status.js';

const LB = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/k8s-shop-app-0123456789/50dc6c495c0c9188';
const LB2 = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/k8s-shop-internal-99/aa11bb22cc33dd44';
const CANARY = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/k8s-shop-appcanar-1b2c3d4e5f/73e2d6bc24d8a067';
const STABLE = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/k8s-shop-appstabl-9a8b7c6d5e/8e4fe4a28e5f5a3c';

describe('albStatusOf', () => {
  it('fills name, arn and Argo\'s fullName (<name>/<id>, without app/ or targetgroup/)', () => {
    expect(albStatusOf({ ingress: 'app', loadBalancerArn: LB, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE })).toEqual({
      loadBalancer: { name: 'k8s-shop-app-0123456789', arn: LB, fullName: 'k8s-shop-app-0123456789/50dc6c495c0c9188' },
      canaryTargetGroup: { name: 'k8s-shop-appcanar-1b2c3d4e5f', arn: CANARY, fullName: 'k8s-shop-appcanar-1b2c3d4e5f/73e2d6bc24d8a067' },
      stableTargetGroup: { name: 'k8s-shop-appstabl-9a8b7c6d5e', arn: STABLE, fullName: 'k8s-shop-appstabl-9a8b7c6d5e/8e4fe4a28e5f5a3c' },
      ingress: 'app',
    });
  });

  it('a role whose target group is not found keeps empty strings, and no ingress outside Ingress mode', () => {
    const s = albStatusOf({ loadBalancerArn: LB, stableTargetGroupArn: STABLE });
    expect(s.canaryTargetGroup).toEqual({ name: '', arn: '', fullName: '' });
    expect('ingress' in s).toBe(false);
    // Serialised as Argo's AwsResourceRef (no omitempty): every key present.
    expect(JSON.stringify(s.canaryTargetGroup)).toBe('{"name":"","arn":"","fullName":""}');
  });
});

describe('albStatusFields', () => {
  it('nothing found: nothing to write', () => {
    expect(albStatusFields([])).toBeUndefined();
  });

  it('one entry per Ingress in order, the last load balancer of an Ingress winning, alb the last entry', () => {
    const f = albStatusFields([
      { ingress: 'app', loadBalancerArn: LB2, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE },
      { ingress: 'app', loadBalancerArn: LB, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE },
      { ingress: 'internal', loadBalancerArn: LB2, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE },
    ])!;
    expect(f.albs.map((a) => [a.ingress, a.loadBalancer.name])).toEqual([
      ['app', 'k8s-shop-app-0123456789'],
      ['internal', 'k8s-shop-internal-99'],
    ]);
    expect(f.alb).toEqual(f.albs[1]);
  });

  it('outside Ingress mode: one entry per load balancer', () => {
    const f = albStatusFields([
      { loadBalancerArn: LB, stableTargetGroupArn: STABLE },
      { loadBalancerArn: LB2, stableTargetGroupArn: STABLE },
    ])!;
    expect(f.albs.map((a) => a.loadBalancer.arn)).toEqual([LB, LB2]);
  });
});

describe('sameAlbStatus', () => {
  const want = albStatusFields([{ ingress: 'app', loadBalancerArn: LB, canaryTargetGroupArn: CANARY, stableTargetGroupArn: STABLE }])!;
  it.each([
    ['the same fields, keys in another order', { alb: JSON.parse(JSON.stringify({ ingress: 'app', ...want.alb })), albs: want.albs }, true],
    ['no status yet', undefined, false],
    ['roles swapped', { alb: { ...want.alb, canaryTargetGroup: want.alb.stableTargetGroup, stableTargetGroup: want.alb.canaryTargetGroup }, albs: want.albs }, false],
    ['albs missing', { alb: want.alb }, false],
  ])('%s → %s', (_n, status, same) => {
    expect(sameAlbStatus(status, want)).toBe(same);
  });
});
