import { describe, expect, it } from 'vitest';
import { EventDeduper, topicOf, WHOLE_CHECK, type SinkEvent } from '../../src/events/dedup.js';

const tgVerified = (svc: string, w: number): SinkEvent => ({
  type: 'Normal',
  reason: 'ALBPluginWeightVerified',
  message: `Service ${svc} (TargetGroup arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/k8s-${svc}/abc) verified: canary weight ${w} set`,
});
const tgUnverified = (svc: string, w: number, cur: number): SinkEvent => ({
  type: 'Warning',
  reason: 'ALBPluginWeightUnverified',
  message: `Service ${svc} (TargetGroup arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/k8s-${svc}/abc) not verified: canary weight ${w} not yet set (current: ${cur})`,
});
const lbNotFound: SinkEvent = {
  type: 'Warning',
  reason: 'ALBPluginLoadBalancerNotFound',
  message: 'Failed to find load balancer: k8s-shop-app-0123456789-1234567890.eu-west-1.elb.amazonaws.com',
};
const verifyError: SinkEvent = { type: 'Warning', reason: 'ALBPluginWeightVerifyError', message: 'Failed to verify weight: Throttling: Rate exceeded' };
const patching = (ing: string, w: number): SinkEvent => ({
  type: 'Normal',
  reason: 'ALBPluginIngressPatched',
  message: `Updating Ingress \`${ing}\` to desiredWeight '${w}'`,
});

describe('topicOf', () => {
  it.each<[SinkEvent, string, string]>([
    [tgVerified('app-canary', 20), 'verification', 'service/app-canary'],
    [tgUnverified('app-canary', 20, 0), 'verification', 'service/app-canary'],
    [
      { type: 'Warning', reason: 'ALBPluginTargetGroupVerifyError', message: 'Failed to verify Service app-canary (TargetGroup unknown): boom' },
      'verification',
      'service/app-canary',
    ],
    [lbNotFound, 'verification', WHOLE_CHECK],
    [verifyError, 'verification', WHOLE_CHECK],
    [patching('app', 20), 'ALBPluginIngressPatched', 'ingress/app'],
    [{ ...patching('app', 20), subject: 'explicit' }, 'ALBPluginIngressPatched', 'explicit'],
    [{ type: 'Normal', reason: 'ReleasedIngress', message: 'whatever' }, 'ReleasedIngress', WHOLE_CHECK],
  ])('%j → %s / %s', (event, group, subject) => {
    expect(topicOf(event)).toEqual({ group, subject });
  });
});

describe('EventDeduper', () => {
  // Each row is a sequence of events for one Rollout and which of them are emitted.
  it.each<{ name: string; events: SinkEvent[]; emitted: boolean[] }>([
    {
      name: 'a repeated verdict is emitted once',
      events: [tgUnverified('c', 20, 0), tgUnverified('c', 20, 0), tgUnverified('c', 20, 0)],
      emitted: [true, false, false],
    },
    {
      name: 'a changed verdict is emitted, and a return to the old one again',
      events: [tgUnverified('c', 20, 0), tgVerified('c', 20), tgVerified('c', 20), tgUnverified('c', 20, 0)],
      emitted: [true, true, false, true],
    },
    {
      name: 'a new weight at the next step is news',
      events: [tgVerified('c', 20), tgVerified('c', 50), tgVerified('c', 50)],
      emitted: [true, true, false],
    },
    {
      name: 'verdicts of two services in one check do not displace each other',
      events: [tgVerified('c', 20), tgVerified('exp', 20), tgVerified('c', 20), tgVerified('exp', 20)],
      emitted: [true, true, false, false],
    },
    {
      name: 'LB not found → verified → LB not found gives three events',
      events: [lbNotFound, lbNotFound, tgVerified('c', 20), lbNotFound, lbNotFound, tgVerified('c', 20)],
      emitted: [true, false, true, true, false, true],
    },
    {
      name: 'an API error and a missing LB are different states',
      events: [verifyError, lbNotFound, verifyError, verifyError],
      emitted: [true, true, true, false],
    },
    {
      name: 'patch events are per Ingress and per weight',
      events: [patching('a', 10), patching('b', 10), patching('a', 10), patching('a', 20), patching('b', 10)],
      emitted: [true, true, false, true, false],
    },
    {
      name: 'patching and verification are separate topics',
      events: [patching('a', 10), tgVerified('c', 10), patching('a', 10), tgVerified('c', 10)],
      emitted: [true, true, false, false],
    },
  ])('$name', ({ events, emitted }) => {
    const d = new EventDeduper();
    expect(events.map((e) => d.admit('uid-1', e))).toEqual(emitted);
  });

  it('keeps Rollouts apart and starts fresh after forget()', () => {
    const d = new EventDeduper();
    expect(d.admit('uid-1', lbNotFound)).toBe(true);
    expect(d.admit('uid-2', lbNotFound)).toBe(true);
    expect(d.admit('uid-1', lbNotFound)).toBe(false);
    d.forget('uid-1');
    expect(d.admit('uid-1', lbNotFound)).toBe(true);
    expect(d.admit('uid-2', lbNotFound)).toBe(false);
  });

  it('retract() lets an undelivered event through again, but not after the state moved on', () => {
    const d = new EventDeduper();
    expect(d.admit('u', lbNotFound)).toBe(true);
    d.retract('u', lbNotFound);
    expect(d.admit('u', lbNotFound)).toBe(true);
    expect(d.admit('u', verifyError)).toBe(true);
    d.retract('u', lbNotFound);
    expect(d.admit('u', verifyError)).toBe(false);
  });

  it('remembers at most maxRollouts, forgetting the least recently active', () => {
    const d = new EventDeduper({ maxRollouts: 2 });
    d.admit('a', lbNotFound);
    d.admit('b', lbNotFound);
    d.admit('a', lbNotFound); // a is now the most recent
    d.admit('c', lbNotFound); // b goes
    expect(d.size).toBe(2);
    expect(d.admit('a', lbNotFound)).toBe(false);
    expect(d.admit('b', lbNotFound)).toBe(true);
  });
});
