// The follower (src/leadership/follower.ts) on fake timers with a scripted Lease, and the gate
// (src/leadership/gate.ts) that runs work only while leader.
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { followLeader, type Leadership } from '../../src/leadership/follower.js';
import { whileLeader, type Stoppable } from '../../src/leadership/gate.js';
import type { LeaseRead, LeaseRecord } from '../../src/leadership/judge.js';
import { createLogger } from '../../src/logger.js';

const LEASE = { namespace: 'argo-rollouts', name: 'argo-rollouts-controller-lock' };

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

/** A Lease the test renews by hand, and a reader with a scripted failure mode. */
function scriptedLease() {
  let renewals = 0;
  let record: LeaseRecord | null = null;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  const reads: number[] = [];
  return {
    reads,
    hold(holder: string, durationSeconds = 15) {
      record = { holderIdentity: holder, leaseDurationSeconds: durationSeconds, acquireTime: 'a', renewTime: `r${renewals}`, leaseTransitions: 0 };
    },
    renew() {
      renewals++;
      if (record) record = { ...record, renewTime: `r${renewals}` };
    },
    set mode(m: 'ok' | 'fail' | 'hang') {
      mode = m;
    },
    read: (): Promise<LeaseRead> => {
      reads.push(Date.now());
      if (mode === 'fail') return Promise.reject(new Error('HTTP 503'));
      if (mode === 'hang') return new Promise(() => {});
      return Promise.resolve(record === null ? null : { ...record });
    },
  };
}

describe('following the leader Lease', () => {
  let follower: Leadership | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(async () => {
    await follower?.stop();
    follower = undefined;
    vi.useRealTimers();
  });

  function start(lease: ReturnType<typeof scriptedLease>, logger = capture().logger) {
    follower = followLeader({ lease: LEASE, read: lease.read, hostname: 'pod-a', pollMs: 2000, readTimeoutMs: 1000, now: () => Date.now(), logger });
    return follower;
  }

  it('leads once it has seen its controller renew the Lease, and says so once, not at every poll', async () => {
    const lease = scriptedLease();
    lease.hold('pod-a_1');
    const log = capture();
    const f = start(lease, log.logger);
    const changes: boolean[] = [];
    f.onChange((l) => changes.push(l));
    await vi.advanceTimersByTimeAsync(0);
    expect(f.verdict().reason).toBe('unconfirmed');
    lease.renew();
    await vi.advanceTimersByTimeAsync(2000);
    expect(f.isLeader()).toBe(true);
    // Twenty more polls with renewals every 2 s: no new line, no new change.
    for (let i = 0; i < 20; i++) {
      lease.renew();
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(f.isLeader()).toBe(true);
    expect(changes).toEqual([true]);
    expect(lease.reads.length).toBe(22);
    expect(log.lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^standby: this pod's controller holds the Lease argo-rollouts\/argo-rollouts-controller-lock \(pod-a_1\); waiting to see it renewed$/),
      expect.stringMatching(/^leader: this pod's controller holds the Lease/),
    ]);
    expect(f.describe()).toBe("leader: this pod's controller holds the Lease argo-rollouts/argo-rollouts-controller-lock (pod-a_1)");
  });

  it('turns standby when another pod takes the Lease, at the next read', async () => {
    const lease = scriptedLease();
    lease.hold('pod-a_1');
    const f = start(lease);
    lease.renew();
    await vi.advanceTimersByTimeAsync(2000);
    expect(f.isLeader()).toBe(true);
    lease.hold('pod-b_2');
    await vi.advanceTimersByTimeAsync(2000);
    expect(f.verdict()).toMatchObject({ leader: false, reason: 'other', holder: 'pod-b_2' });
  });

  it.each(['fail', 'hang'] as const)('reads that %s: the last answer stands until its lease runs out, then standby on time, with one warning', async (mode) => {
    const lease = scriptedLease();
    lease.hold('pod-a_1', 15);
    const log = capture();
    const f = start(lease, log.logger);
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(0);
    lease.renew();
    await vi.advanceTimersByTimeAsync(2000);
    expect(f.isLeader()).toBe(true);
    lease.mode = mode;
    // The lease counts from the read that still saw the previous record, sent at t0.
    await vi.advanceTimersByTimeAsync(t0 + 15_000 - Date.now() - 1);
    expect(f.isLeader()).toBe(true);
    await vi.advanceTimersByTimeAsync(2);
    expect(f.verdict()).toMatchObject({ leader: false, reason: 'expired', error: mode === 'fail' ? 'HTTP 503' : 'no answer within 1000 ms' });
    const warnings = log.lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => l.msg)).toEqual(['cannot read the leader Lease; the last answer stands until its lease runs out']);

    // Reads answer again and the controller still renews: leader again after the next change, and one line saying so.
    lease.mode = 'ok';
    await vi.advanceTimersByTimeAsync(3000);
    lease.renew();
    await vi.advanceTimersByTimeAsync(3000);
    expect(f.isLeader()).toBe(true);
    expect(log.lines.filter((l) => l.msg === 'reading the leader Lease again')).toHaveLength(1);
  });

  it('reads nothing after stop', async () => {
    const lease = scriptedLease();
    const f = start(lease);
    await vi.advanceTimersByTimeAsync(4000);
    const n = lease.reads.length;
    await f.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lease.reads.length).toBe(n);
  });
});

/** A Leadership the test flips by hand. */
function manualLeadership() {
  let leader = false;
  const fns = new Set<(l: boolean) => void>();
  const l: Leadership & { set(v: boolean): void } = {
    isLeader: () => leader,
    verdict: () => ({ leader, reason: leader ? 'holds' : 'other' }),
    describe: () => (leader ? 'leader' : 'standby'),
    onChange(fn) {
      fns.add(fn);
      return () => fns.delete(fn);
    },
    stop: async () => {},
    set(v) {
      if (v === leader) return;
      leader = v;
      for (const fn of fns) fn(v);
    },
  };
  return l;
}

describe('work that runs only while leader', () => {
  it('starts a fresh term on each leadership and stops it on standby; never two at once, even on quick flips', async () => {
    const leadership = manualLeadership();
    const log: string[] = [];
    let running = 0;
    let terms = 0;
    const gate = whileLeader(leadership, 'test work', (): Stoppable => {
      const n = ++terms;
      running++;
      log.push(`start ${n}`);
      expect(running).toBe(1);
      return {
        async stop() {
          // Stopping takes a while (in-flight releases are waited for).
          await new Promise((r) => setTimeout(r, 20));
          running--;
          log.push(`stop ${n}`);
        },
      };
    });
    await gate.settled();
    expect(gate.running()).toBe(false);
    leadership.set(true);
    await gate.settled();
    expect(gate.running()).toBe(true);
    // Standby, and leader again while the first term is still stopping.
    leadership.set(false);
    await Promise.resolve();
    leadership.set(true);
    leadership.set(false);
    leadership.set(true);
    await gate.settled();
    expect(gate.running()).toBe(true);
    expect(running).toBe(1);
    await gate.stop();
    expect(running).toBe(0);
    // Each stop finished before the next start.
    expect(log).toEqual(['start 1', 'stop 1', 'start 2', 'stop 2']);
    leadership.set(false);
    leadership.set(true);
    await gate.settled();
    expect(terms).toBe(2);
  });

  it('a start that throws is logged and tried again at the next leadership', async () => {
    const leadership = manualLeadership();
    let calls = 0;
    const gate = whileLeader(leadership, 'test work', () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return { stop: async () => {} };
    });
    await gate.settled();
    leadership.set(true);
    await gate.settled();
    expect(gate.running()).toBe(false);
    leadership.set(false);
    leadership.set(true);
    await gate.settled();
    expect(gate.running()).toBe(true);
    await gate.stop();
  });
});
