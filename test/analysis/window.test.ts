import { describe, expect, it } from 'vitest';
import { describeWindow, minuteIndex, queryWindow } from '../../src/analysis/window.js';

const at = (iso: string) => new Date(iso);

describe('queryWindow: whole minutes that ended at least settleDelay ago', () => {
  it.each<[string, string, number, number, string, string, number]>([
    // now, lookback, settle → start, end, minutes
    ['aligned now, default settle', '2025-06-01T10:07:00.000Z', 300, 120, '2025-06-01T10:00:00.000Z', '2025-06-01T10:05:00.000Z', 5],
    ['mid-minute now: the running minute and the settle are left out', '2025-06-01T10:07:42.123Z', 300, 120, '2025-06-01T10:00:00.000Z', '2025-06-01T10:05:00.000Z', 5],
    ['one ms before a minute boundary', '2025-06-01T10:06:59.999Z', 300, 120, '2025-06-01T09:59:00.000Z', '2025-06-01T10:04:00.000Z', 5],
    ['no settle: the last whole minute is in', '2025-06-01T10:07:30.000Z', 60, 0, '2025-06-01T10:06:00.000Z', '2025-06-01T10:07:00.000Z', 1],
    ['settle not a whole minute', '2025-06-01T10:07:30.000Z', 120, 90, '2025-06-01T10:04:00.000Z', '2025-06-01T10:06:00.000Z', 2],
    ['settle exactly reaching the boundary', '2025-06-01T10:07:30.000Z', 120, 30, '2025-06-01T10:05:00.000Z', '2025-06-01T10:07:00.000Z', 2],
    ['across midnight', '2025-06-01T00:02:10.000Z', 600, 60, '2025-05-31T23:51:00.000Z', '2025-06-01T00:01:00.000Z', 10],
    ['a day', '2025-06-02T00:00:00.000Z', 86400, 0, '2025-06-01T00:00:00.000Z', '2025-06-02T00:00:00.000Z', 1440],
  ])('%s', (_name, now, lookback, settle, start, end, minutes) => {
    const w = queryWindow(at(now), lookback, settle);
    expect(w.start.toISOString()).toBe(start);
    expect(w.end.toISOString()).toBe(end);
    expect(w.minutes).toBe(minutes);
    expect(w.start.getTime() % 60_000).toBe(0);
    expect(w.end.getTime() % 60_000).toBe(0);
    expect(w.end.getTime() <= at(now).getTime() - settle * 1000).toBe(true);
  });

  it('takes epoch milliseconds as well as a Date', () => {
    const now = Date.parse('2025-06-01T10:07:00Z');
    expect(queryWindow(now, 300, 120)).toEqual(queryWindow(new Date(now), 300, 120));
  });

  it.each<[string, Date | number, number, number]>([
    ['a lookback under a minute', at('2025-06-01T10:00:00Z'), 59, 0],
    ['a negative settle', at('2025-06-01T10:00:00Z'), 60, -1],
    ['an invalid date', new Date('nope'), 60, 0],
    ['NaN', Number.NaN, 60, 0],
  ])('refuses %s (a caller bug: the config parser never lets one through)', (_name, now, lookback, settle) => {
    expect(() => queryWindow(now, lookback, settle)).toThrow(RangeError);
  });
});

describe('minuteIndex', () => {
  const w = queryWindow(at('2025-06-01T10:07:00Z'), 300, 120); // 10:00–10:05
  it.each<[string, number | undefined]>([
    ['2025-06-01T10:00:00.000Z', 0],
    ['2025-06-01T10:00:59.999Z', 0],
    ['2025-06-01T10:01:00.000Z', 1],
    ['2025-06-01T10:04:30.000Z', 4],
    ['2025-06-01T10:05:00.000Z', undefined],
    ['2025-06-01T09:59:59.999Z', undefined],
  ])('%s → %j', (t, i) => {
    expect(minuteIndex(w, at(t))).toBe(i);
  });
  it('an invalid time is outside', () => {
    expect(minuteIndex(w, new Date('nope'))).toBeUndefined();
  });
});

describe('describeWindow', () => {
  it.each<[string, number, string]>([
    ['2025-06-01T10:07:00Z', 300, '10:00–10:05 UTC'],
    ['2025-06-01T00:00:00Z', 300, '23:53–23:58 UTC'],
    ['2025-06-01T00:02:00Z', 600, '23:50–00:00 UTC'], // ends at midnight: all of it on one day
    ['2025-06-01T00:03:00Z', 600, '2025-05-31 23:51–2025-06-01 00:01 UTC'],
  ])('now %s, lookback %d s → %s', (now, lookback, text) => {
    expect(describeWindow(queryWindow(at(now), lookback, 120))).toBe(text);
  });
});
