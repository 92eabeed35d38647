// Follows Argo Rollouts' leader election instead of electing separately, so the sidecar and its controller
// never disagree: one GET of the controller's Lease every poll (2 s, the controller's retry period), judged by
// judge.ts, and a timer at the moment the lease would run out, so a leader turns standby on time even when
// reads fail or hang. A failed read changes nothing by itself: the last answer stands until its lease runs
// out (at most one lease duration), then the sidecar is standby. Changes are logged once, not every poll.

import type { Logger } from '../logger.js';
import { describeVerdict, judge, observe, observeError, type FollowState, type LeaseRead, type Verdict } from './judge.js';
import type { LeaseRef } from './lease.js';

export interface Leadership {
  isLeader(): boolean;
  verdict(): Verdict;
  /** `leader: ...` / `standby: ...`, for /readyz and logs. */
  describe(): string;
  /** Calls `fn` each time leader turns standby or back; returns the unsubscribe. */
  onChange(fn: (leader: boolean) => void): () => void;
  stop(): Promise<void>;
}

export interface FollowerOptions {
  lease: LeaseRef;
  /** One read of the Lease (null: it does not exist); kube: lease.ts `kubeLeaseReader`. */
  read(): Promise<LeaseRead>;
  /** This pod's hostname (the pod name): the controller's holder identity is `<hostname>_<uuid>`. */
  hostname: string;
  /** Between the end of one read and the next (default 2000, the controller's retry period). */
  pollMs?: number;
  /** A read without an answer by then counts as failed (default 5000). */
  readTimeoutMs?: number;
  /** Monotonic milliseconds (default performance.now: wall-clock steps change nothing). */
  now?: () => number;
  logger?: Logger;
}

export const DEFAULT_POLL_MS = 2_000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function followLeader(opts: FollowerOptions): Leadership {
  const now = opts.now ?? (() => performance.now());
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const readTimeoutMs = opts.readTimeoutMs ?? 5_000;
  const log = opts.logger?.child({ part: 'leadership', lease: `${opts.lease.namespace}/${opts.lease.name}`, hostname: opts.hostname });
  const listeners = new Set<(leader: boolean) => void>();
  let state: FollowState = {};
  let current: Verdict = judge(state, opts.hostname, now());
  let stopped = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();

  function evaluate(): void {
    if (stopped) return;
    const prev = current;
    const v = judge(state, opts.hostname, now());
    current = v;
    if (v.leader !== prev.leader || v.reason !== prev.reason || v.holder !== prev.holder) {
      const { error: _error, ...withoutError } = v;
      log?.info({ leader: v.leader, reason: v.reason, holder: v.holder }, describeVerdict(withoutError, opts.lease));
    }
    if (v.error !== undefined && prev.error === undefined) log?.warn({ err: v.error }, 'cannot read the leader Lease; the last answer stands until its lease runs out');
    if (v.error === undefined && prev.error !== undefined) log?.info('reading the leader Lease again');
    if (v.leader !== prev.leader) {
      for (const fn of [...listeners]) {
        try {
          fn(v.leader);
        } catch (err) {
          log?.error({ err: message(err) }, 'leadership listener failed');
        }
      }
    }
    clearTimeout(expiryTimer);
    expiryTimer = undefined;
    if (v.leader && state.validUntil !== undefined) {
      // +1: judge() says expired from validUntil on; a timer may fire a fraction early.
      expiryTimer = setTimeout(evaluate, Math.max(0, state.validUntil - now()) + 1);
      expiryTimer.unref();
    }
  }

  async function poll(): Promise<void> {
    const sentAt = now();
    try {
      state = observe(state, await withTimeout(opts.read(), readTimeoutMs), sentAt);
    } catch (err) {
      state = observeError(state, message(err));
    }
    evaluate();
  }

  function loop(): void {
    if (stopped) return;
    polling = poll().finally(() => {
      if (stopped) return;
      pollTimer = setTimeout(loop, pollMs);
      pollTimer.unref();
    });
  }
  loop();

  return {
    isLeader: () => current.leader,
    verdict: () => current,
    describe: () => describeVerdict(current, opts.lease),
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async stop() {
      stopped = true;
      clearTimeout(pollTimer);
      clearTimeout(expiryTimer);
      listeners.clear();
      await polling.catch(() => {});
    },
  };
}

/** `--leader-elect=false`: the controller runs alone without a Lease, and so does the sidecar's background work. */
export function alwaysLeader(): Leadership {
  const v: Verdict = { leader: true, reason: 'holds' };
  return {
    isLeader: () => true,
    verdict: () => v,
    describe: () => 'leader: leader election is off (--leader-elect=false); this sidecar runs the background work',
    onChange: () => () => {},
    stop: async () => {},
  };
}
