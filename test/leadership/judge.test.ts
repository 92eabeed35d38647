// The leader judgement (src/leadership/judge.ts) as a table: a sequence of Lease reads at given times on the
// follower's own clock, and the verdict at a later time.
import { describe, expect, it } from 'vitest';
import { describeVerdict, heldFrom, judge, observe, observeError, type FollowState, type LeaseRead, type VerdictReason } from '../../src/leadership/judge.js';

const HOST = 'argo-rollouts-7c9d5b8f4-abcde';
const OURS = `${HOST}_0b6c2f1e-5d0a-4c55-9a8e-2f1d3c4b5a69`;
const OTHER = 'argo-rollouts-7c9d5b8f4-vwxyz_9f8e7d6c-5b4a-4321-8765-0fedcba98765';

/** A record as client-go writes it (MicroTime: six fractional digits). */
function lease(holder: string, renew: string, o: { duration?: number | null; transitions?: number } = {}): LeaseRead {
  return {
    holderIdentity: holder,
    leaseDurationSeconds: o.duration === undefined ? 15 : o.duration,
    acquireTime: '2026-12-01T10:00:00.000000Z',
    renewTime: renew,
    leaseTransitions: o.transitions ?? 0,
  };
}
const t = (s: number) => `2026-12-01T10:00:${String(s).padStart(2, '0')}.000000Z`;

type Step = [sentAt: number, read: LeaseRead | Error];

function replay(steps: Step[]): FollowState {
  return steps.reduce<FollowState>((st, [at, read]) => (read instanceof Error ? observeError(st, read.message) : observe(st, read, at)), {});
}

interface Row {
  name: string;
  steps: Step[];
  at: number;
  leader: boolean;
  reason: VerdictReason;
}

const rows: Row[] = [
  { name: 'nothing read yet', steps: [], at: 0, leader: false, reason: 'unread' },
  { name: 'first read failed', steps: [[0, new Error('ECONNREFUSED')]], at: 0, leader: false, reason: 'unread' },
  { name: 'no Lease', steps: [[0, null], [2000, null]], at: 2000, leader: false, reason: 'absent' },
  { name: 'held by another pod, renewed', steps: [[0, lease(OTHER, t(0))], [2000, lease(OTHER, t(2))]], at: 2000, leader: false, reason: 'other' },
  { name: 'empty holder (released)', steps: [[0, lease(OURS, t(0))], [2000, lease('', t(0))]], at: 2000, leader: false, reason: 'free' },
  { name: 'ours, seen once: no proof the holder is alive', steps: [[0, lease(OURS, t(0))]], at: 1, leader: false, reason: 'unconfirmed' },
  { name: 'ours, seen once and again unchanged', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(0))]], at: 2001, leader: false, reason: 'unconfirmed' },
  { name: 'ours, renewed', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))]], at: 2001, leader: true, reason: 'holds' },
  { name: 'ours, acquired after no Lease', steps: [[0, null], [2000, lease(OURS, t(2))]], at: 2001, leader: true, reason: 'holds' },
  { name: 'ours, acquired from another pod', steps: [[0, lease(OTHER, t(0))], [2000, lease(OURS, t(17), { transitions: 1 })]], at: 2001, leader: true, reason: 'holds' },
  // The lease period starts at the send time of the last read that still returned the previous record (0 here).
  { name: 'ours, one lease period after the last change minus 1 ms', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, lease(OURS, t(2))]], at: 14_999, leader: true, reason: 'holds' },
  { name: 'ours, one lease period after the last change', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, lease(OURS, t(2))]], at: 15_000, leader: false, reason: 'expired' },
  { name: 'ours, renewals keep it going', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [20_000, lease(OURS, t(20))], [22_000, lease(OURS, t(22))]], at: 34_999, leader: true, reason: 'holds' },
  { name: 'ours, a gap between reads: the lease counts from the read before the change', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [12_000, lease(OURS, t(12))]], at: 16_999, leader: true, reason: 'holds' },
  { name: 'ours, a long gap: the change may be old', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [30_000, lease(OURS, t(29))]], at: 30_001, leader: false, reason: 'expired' },
  { name: 'handed to another pod', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, lease(OTHER, t(4), { transitions: 1 })]], at: 4001, leader: false, reason: 'other' },
  { name: 'the Lease deleted', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, null]], at: 4001, leader: false, reason: 'absent' },
  // Clock skew: renewTime is never compared with the follower's clock, only with the previous renewTime.
  { name: 'skew: renewTime a day behind our clock, renewed', steps: [[0, lease(OURS, '2026-11-30T10:00:00.000000Z')], [2000, lease(OURS, '2026-11-30T10:00:02.000000Z')]], at: 2001, leader: true, reason: 'holds' },
  { name: 'skew: renewTime an hour ahead of our clock, not renewed', steps: [[0, lease(OURS, '2026-12-01T11:00:00.000000Z')], [2000, lease(OURS, '2026-12-01T11:00:02.000000Z')], [4000, lease(OURS, '2026-12-01T11:00:02.000000Z')]], at: 15_000, leader: false, reason: 'expired' },
  { name: 'any field of the record counts as a change (a new leaseDurationSeconds)', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(0), { duration: 30 })]], at: 29_999, leader: true, reason: 'holds' },
  { name: 'leaseDurationSeconds 0: never valid', steps: [[0, null], [2000, lease(OURS, t(2), { duration: 0 })]], at: 2000, leader: false, reason: 'expired' },
  { name: 'leaseDurationSeconds missing: never valid', steps: [[0, null], [2000, lease(OURS, t(2), { duration: null })]], at: 2000, leader: false, reason: 'expired' },
  // Failed reads: the last answer stands until its lease runs out, then standby.
  { name: 'reads failing after a renewal, within the lease', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, new Error('timeout')], [6000, new Error('timeout')]], at: 14_000, leader: true, reason: 'holds' },
  { name: 'reads failing after a renewal, past the lease', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, new Error('timeout')]], at: 15_000, leader: false, reason: 'expired' },
  { name: 'a read after failures that finds a renewal: measured from the last successful read', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, new Error('x')], [6000, lease(OURS, t(6))]], at: 16_999, leader: true, reason: 'holds' },
  { name: 'a read after failures that finds a renewal, past the lease', steps: [[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, new Error('x')], [6000, lease(OURS, t(6))]], at: 17_000, leader: false, reason: 'expired' },
];

describe('the leader judgement', () => {
  it.each(rows)('$name → $reason', ({ steps, at, leader, reason }) => {
    const v = judge(replay(steps), HOST, at);
    expect({ leader: v.leader, reason: v.reason }).toEqual({ leader, reason });
  });

  it('keeps the read error beside the verdict, and drops it after a successful read', () => {
    const failing = replay([[0, lease(OURS, t(0))], [2000, lease(OURS, t(2))], [4000, new Error('HTTP 503')]]);
    expect(judge(failing, HOST, 5000)).toEqual({ leader: true, reason: 'holds', holder: OURS, error: 'HTTP 503' });
    expect(judge(observe(failing, lease(OURS, t(6)), 6000), HOST, 6001).error).toBeUndefined();
  });

  it.each([
    [OURS, HOST, true],
    [OTHER, HOST, false],
    // The pod name is followed by `_`: a pod whose name starts with ours is another pod.
    [`${HOST}x_0b6c2f1e`, HOST, false],
    [HOST, HOST, false],
    ['', HOST, false],
    ['_0b6c2f1e', '', false],
  ])('holder %j is ours on host %j: %s', (holder, host, want) => {
    expect(heldFrom(holder, host)).toBe(want);
  });

  it('says which it is, in one line naming the Lease', () => {
    const ref = { namespace: 'argo-rollouts', name: 'argo-rollouts-controller-lock' };
    const leader = judge(replay([[0, null], [2000, lease(OURS, t(2))]]), HOST, 2001);
    expect(describeVerdict(leader, ref)).toBe(`leader: this pod's controller holds the Lease argo-rollouts/argo-rollouts-controller-lock (${OURS})`);
    const standby = judge(replay([[0, lease(OTHER, t(0))], [2000, new Error('HTTP 500')]]), HOST, 2001);
    expect(describeVerdict(standby, ref)).toBe(
      `standby: another pod's controller holds the Lease argo-rollouts/argo-rollouts-controller-lock (${OTHER}); last read failed: HTTP 500`,
    );
  });
});
