// Which sidecar leads: the one whose pod's Argo Rollouts controller holds Argo's leader Lease. Pure: the state
// after each read of the Lease, and the verdict at a given time.
//
// Expiry is judged the way client-go's leaderelection judges it (k8s.io/client-go/tools/leaderelection,
// `isLeaseValid`): from when this process saw the record change, on its own monotonic clock, plus the
// record's leaseDurationSeconds; renewTime is never compared with the local clock, so clock skew between
// nodes changes nothing. One difference makes a follower hand over no later than a candidate could take
// over: a candidate starts the lease period when it *reads* the changed record, which is after the write;
// the follower starts it at the send time of its last read that still returned the previous record, which
// is before the write. Its lease therefore ends before any candidate may acquire. A record seen once and
// never changed proves nothing (its holder may have died long ago), so it does not make a leader.

export interface LeaseRecord {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

/** One successful read of the Lease: its record, or `null` when the Lease does not exist. */
export type LeaseRead = LeaseRecord | null;

export interface FollowState {
  /** The record of the last successful read (`null`: no Lease); undefined until a read succeeds. */
  record?: LeaseRecord | null;
  /** What identifies the record (client-go compares the whole record, not one field). */
  key?: string;
  /** Send time (ms, monotonic) of the last successful read that returned `record`. */
  confirmedAt?: number;
  /**
   * Until when (ms, monotonic) `record` stands: the send time of the last read that still returned the
   * previous record, plus this record's lease duration. Undefined: no change seen yet.
   */
  validUntil?: number;
  /** Message of the last read if it failed; cleared by the next successful read. */
  error?: string;
}

export type VerdictReason =
  /** This pod's controller holds the Lease and it was renewed within the lease duration: leader. */
  | 'holds'
  /** No successful read yet. */
  | 'unread'
  /** The Lease does not exist (the controller has not elected yet, or runs without leader election). */
  | 'absent'
  /** The Lease names no holder. */
  | 'free'
  /** Another pod's controller holds the Lease. */
  | 'other'
  /** This pod's controller holds the Lease, but no change of it has been seen yet. */
  | 'unconfirmed'
  /** This pod's controller holds the Lease, but it was not renewed within the lease duration. */
  | 'expired';

export interface Verdict {
  leader: boolean;
  reason: VerdictReason;
  /** The Lease's holderIdentity, when one was read. */
  holder?: string;
  /** The last read failed with this message (the verdict still stands on the reads before it). */
  error?: string;
}

function recordKey(record: LeaseRecord | null): string {
  if (record === null) return 'absent';
  return JSON.stringify([
    record.holderIdentity ?? '',
    record.leaseDurationSeconds ?? 0,
    String(record.acquireTime ?? ''),
    String(record.renewTime ?? ''),
    record.leaseTransitions ?? 0,
  ]);
}

/** The state after a read sent at `sentAt` (monotonic ms) returned `read`. Reads must be sequential. */
export function observe(state: FollowState, read: LeaseRead, sentAt: number): FollowState {
  const key = recordKey(read);
  // The first answer: nothing to compare with, so no proof that the holder is alive.
  if (state.record === undefined || state.confirmedAt === undefined) return { record: read, key, confirmedAt: sentAt };
  if (key === state.key) {
    const same: FollowState = { record: read, key, confirmedAt: sentAt };
    if (state.validUntil !== undefined) same.validUntil = state.validUntil;
    return same;
  }
  // Written after the read sent at state.confirmedAt was answered: valid from no earlier than that.
  const seconds = read?.leaseDurationSeconds ?? 0;
  return { record: read, key, confirmedAt: sentAt, validUntil: state.confirmedAt + Math.max(0, seconds) * 1000 };
}

/** The state after a read failed: everything read before still stands, until its lease runs out. */
export function observeError(state: FollowState, message: string): FollowState {
  return { ...state, error: message };
}

/** The holder identity client-go writes for a controller on `hostname`: `<hostname>_<uuid>`. */
export function heldFrom(holder: string, hostname: string): boolean {
  return hostname !== '' && holder.startsWith(`${hostname}_`);
}

export function judge(state: FollowState, hostname: string, now: number): Verdict {
  const error = state.error !== undefined ? { error: state.error } : {};
  if (state.record === undefined) return { leader: false, reason: 'unread', ...error };
  if (state.record === null) return { leader: false, reason: 'absent', ...error };
  const holder = state.record.holderIdentity ?? '';
  if (holder === '') return { leader: false, reason: 'free', ...error };
  if (!heldFrom(holder, hostname)) return { leader: false, reason: 'other', holder, ...error };
  if (state.validUntil === undefined) return { leader: false, reason: 'unconfirmed', holder, ...error };
  if (now >= state.validUntil) return { leader: false, reason: 'expired', holder, ...error };
  return { leader: true, reason: 'holds', holder, ...error };
}

/** One line for logs and /readyz: `leader: ...` or `standby: ...`. */
export function describeVerdict(v: Verdict, lease: { namespace: string; name: string }): string {
  const where = `Lease ${lease.namespace}/${lease.name}`;
  const why: Record<VerdictReason, string> = {
    holds: `this pod's controller holds the ${where} (${v.holder ?? ''})`,
    unread: `the ${where} has not been read yet`,
    absent: `the ${where} does not exist (the controller has not elected a leader, or runs with --leader-elect=false: then set --leader-elect=false here too)`,
    free: `the ${where} has no holder`,
    other: `another pod's controller holds the ${where} (${v.holder ?? ''})`,
    unconfirmed: `this pod's controller holds the ${where} (${v.holder ?? ''}); waiting to see it renewed`,
    expired: `this pod's controller held the ${where} (${v.holder ?? ''}) but has not renewed it within its lease duration`,
  };
  const line = `${v.leader ? 'leader' : 'standby'}: ${why[v.reason]}`;
  return v.error !== undefined ? `${line}; last read failed: ${v.error}` : line;
}
