// The window a measurement queries: whole minutes, because CloudWatch aggregates ALB metrics per 60-s period
// aligned to the minute, and only minutes that ended at least `settleDelay` ago, because CloudWatch finishes
// publishing a minute a minute or two late; a minute read too early looks like a minute with little traffic
// and no errors. Pure.

export const PERIOD_SECONDS = 60;
const PERIOD_MS = PERIOD_SECONDS * 1000;

export interface QueryWindow {
  /** First minute, inclusive (a multiple of 60 s). */
  start: Date;
  /** End, exclusive (a multiple of 60 s): the last minute in the window is [end − 60 s, end). */
  end: Date;
  minutes: number;
}

export function queryWindow(now: Date | number, lookbackSeconds: number, settleDelaySeconds: number): QueryWindow {
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError(`queryWindow: now is not a time (${String(now)})`);
  const minutes = Math.floor(lookbackSeconds / PERIOD_SECONDS);
  if (!(minutes >= 1)) throw new RangeError(`queryWindow: lookback must be at least ${PERIOD_SECONDS} s, got ${lookbackSeconds}`);
  if (!(settleDelaySeconds >= 0)) throw new RangeError(`queryWindow: settleDelay must be ≥ 0, got ${settleDelaySeconds}`);
  const endMs = Math.floor((nowMs - settleDelaySeconds * 1000) / PERIOD_MS) * PERIOD_MS;
  return { start: new Date(endMs - minutes * PERIOD_MS), end: new Date(endMs), minutes };
}

/** Index of the minute `t` falls in (0 = the first), or undefined outside the window. */
export function minuteIndex(window: QueryWindow, t: Date | number): number | undefined {
  const ms = typeof t === 'number' ? t : t.getTime();
  if (!Number.isFinite(ms)) return undefined;
  const i = Math.floor((ms - window.start.getTime()) / PERIOD_MS);
  return i >= 0 && i < window.minutes ? i : undefined;
}

/** "10:00–10:05 UTC" (dates are added when the window crosses midnight or for long windows). */
export function describeWindow(window: QueryWindow): string {
  const iso = (d: Date) => d.toISOString();
  const sameDay = iso(window.start).slice(0, 10) === iso(new Date(window.end.getTime() - 1)).slice(0, 10);
  const hm = (d: Date) => iso(d).slice(11, 16);
  return sameDay
    ? `${hm(window.start)}–${hm(window.end)} UTC`
    : `${iso(window.start).slice(0, 16).replace('T', ' ')}–${iso(window.end).slice(0, 16).replace('T', ' ')} UTC`;
}
