// The HTTP API's own ELBv2 budget (issue #20): calls made inside inBudget('api', …) take their tokens from a bucket
// of their own, so a flood of API checks never makes VerifyWeight's calls wait.
import { describe, expect, it } from 'vitest';
import { API_BUDGET, inBudget } from '../../src/aws/budget.js';
import { retryingSend, AwsThrottledError } from '../../src/aws/retrying-send.js';
import type { Clock } from '../../src/aws/token-bucket.js';

/** A clock that only moves when something sleeps; `slept` records how long each caller waited. */
function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

class Throttled extends AwsThrottledError {
  constructor(operation: string, attempts: number, cause: unknown) {
    super('test', operation, attempts, cause);
  }
}

describe('inBudget', () => {
  it('API calls spend their own bucket: once it is empty they wait, while calls outside it still go at once', async () => {
    const clock = fakeClock();
    const send = retryingSend({ rateLimit: 1, rateBurst: 2, clock, budgets: { [API_BUDGET]: { rateLimit: 1, rateBurst: 2 } } }, Throttled);
    const ok = async () => 'ok';
    // The API empties its own burst, and its third call waits for a token.
    await inBudget(API_BUDGET, async () => {
      await send('DescribeRules', ok);
      await send('DescribeRules', ok);
    });
    expect(clock.slept).toEqual([]);
    await inBudget(API_BUDGET, () => send('DescribeRules', ok));
    expect(clock.slept.length).toBe(1);
    // VerifyWeight's calls (no budget named) still have their whole burst.
    const before = clock.slept.length;
    await send('DescribeRules', ok);
    await send('DescribeRules', ok);
    expect(clock.slept.length).toBe(before);
  });

  it('an unknown budget name falls back to the client\'s bucket', async () => {
    const clock = fakeClock();
    const send = retryingSend({ rateLimit: 1, rateBurst: 1, clock }, Throttled);
    await inBudget('other', () => send('DescribeRules', async () => 1));
    await send('DescribeRules', async () => 1);
    expect(clock.slept.length).toBe(1);
  });
});
