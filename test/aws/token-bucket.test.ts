import { describe, expect, it } from 'vitest';
import { TokenBucket, type Clock } from '../../src/aws/token-bucket.js';

function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new Error('aborted');
      sleeps.push(ms);
      t += ms;
    },
  };
  return { clock, sleeps, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('serves the burst at once, then one token per 1/rate seconds', async () => {
    const { clock, sleeps } = fakeClock();
    const b = new TokenBucket(2, 3, clock);
    for (let i = 0; i < 5; i++) await b.take();
    expect(sleeps).toEqual([500, 500]);
  });

  it('refills over time up to the burst only', async () => {
    const { clock, sleeps, advance } = fakeClock();
    const b = new TokenBucket(1, 2, clock);
    await b.take();
    await b.take();
    advance(10_000);
    expect(b.waitTime()).toBe(0);
    await b.take();
    await b.take();
    await b.take();
    expect(sleeps).toEqual([1000]);
  });

  it('a wait aborted while queued gives its reservation back', async () => {
    const ac = new AbortController();
    // The deadline passes while the caller waits for its token.
    const clock: Clock = { now: () => 0, sleep: async () => { ac.abort(); throw new Error('deadline'); } };
    const b = new TokenBucket(1, 1, clock);
    await b.take();
    await expect(b.take(ac.signal)).rejects.toThrow('deadline');
    // Only the first caller's token is gone: the next one waits 1 s, not 2 s.
    expect(b.waitTime()).toBe(1000);
  });

  it.each([
    [0, 1, 'rate must be > 0'],
    [1, 0, 'burst must be >= 1'],
  ])('rejects rate %s burst %s', (rate, burst, msg) => {
    expect(() => new TokenBucket(rate, burst)).toThrow(msg);
  });
});
