// The budget and ordering helpers every router call goes through (issue #12 item 3), src/plugin/router.ts.
import { describe, expect, it } from 'vitest';
import { answerReserveMs, CallCancelledError, stepBudgetMs, stepSignal, throwIfCancelled, type CallContext } from '../../src/plugin/call.js';
import { SerialQueue } from '../../src/plugin/serial-queue.js';

const call = (timeoutMs: number, leftMs: number, now: number, signal = new AbortController().signal): CallContext => ({
  signal,
  deadline: now + leftMs,
  timeoutMs,
});

describe('a call\'s budget', () => {
  it('keeps min(1 s, 10 %) for answering and gives each step at most its cap and what is left before that', () => {
    const now = 1_000_000;
    expect(answerReserveMs(call(25_000, 25_000, now))).toBe(1000);
    expect(answerReserveMs(call(5000, 5000, now))).toBe(500);
    // Fresh 25 s call: a Kubernetes request gets its own 15 s.
    expect(stepBudgetMs(call(25_000, 25_000, now), 15_000, now)).toBe(15_000);
    // 10 s into it (the guard took them): 15 s left, minus 1 s reserve = 14 s.
    expect(stepBudgetMs(call(25_000, 15_000, now), 15_000, now)).toBe(14_000);
    // Past the reserve: nothing, never negative.
    expect(stepBudgetMs(call(25_000, 500, now), 15_000, now)).toBe(0);
    // Outside a call the step keeps its own cap.
    expect(stepBudgetMs(undefined, 15_000, now)).toBe(15_000);
  });

  it('stepSignal fires with the call, or when the budget is spent, saying which', async () => {
    const ac = new AbortController();
    const s = stepSignal({ signal: ac.signal, deadline: Date.now() + 25_000, timeoutMs: 25_000 });
    ac.abort(new Error('Plugin.SetWeight did not finish within 25s'));
    expect((s.reason as Error).message).toBe('Plugin.SetWeight did not finish within 25s');

    const spent = stepSignal({ signal: new AbortController().signal, deadline: Date.now() + 1030, timeoutMs: 25_000 });
    await new Promise((r) => setTimeout(r, 80));
    expect(spent.aborted).toBe(true);
    expect((spent.reason as Error).message).toMatch(/^no answer within \d+ ms, the time left before the plugin call's deadline \(--rpc-timeout-seconds\)$/);
  });

  it('throwIfCancelled says what is not done and why', () => {
    const ac = new AbortController();
    expect(() => throwIfCancelled({ signal: ac.signal, deadline: 0, timeoutMs: 1 }, 'ingress `x`: write')).not.toThrow();
    ac.abort(new Error('Plugin.SetWeight did not finish within 25s'));
    expect(() => throwIfCancelled({ signal: ac.signal, deadline: 0, timeoutMs: 1 }, 'ingress `x`: write')).toThrow(
      new CallCancelledError('ingress `x`: write not done: Plugin.SetWeight did not finish within 25s'),
    );
  });
});

describe('SerialQueue', () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('runs work of one key one at a time, in arrival order; other keys do not wait', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let release!: () => void;
    const first = q.run('a', async () => {
      log.push('a1 start');
      await new Promise<void>((r) => (release = r));
      log.push('a1 end');
    });
    const second = q.run('a', async () => void log.push('a2'));
    await q.run('b', async () => void log.push('b1'));
    await tick();
    expect(log).toEqual(['a1 start', 'b1']);
    release();
    await Promise.all([first, second]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    await tick();
    expect(q.size).toBe(0);
  });

  it('a waiting call whose signal fires gives up without running, and the next one still waits for the first', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let release!: () => void;
    const first = q.run('k', () => new Promise<void>((r) => (release = r)).then(() => void log.push('first')));
    const ac = new AbortController();
    const stale = q.run('k', async () => void log.push('stale'), ac.signal).catch((e: unknown) => e);
    const third = q.run('k', async () => void log.push('third'));
    ac.abort(new Error('Plugin.SetWeight did not finish within 25s'));
    const err = await stale;
    expect(err).toBeInstanceOf(CallCancelledError);
    expect((err as Error).message).toBe('gave up waiting for an earlier call on the same object: Plugin.SetWeight did not finish within 25s');
    await tick();
    expect(log).toEqual([]);
    release();
    await Promise.all([first, third]);
    expect(log).toEqual(['first', 'third']);
  });

  it('a failing call does not block the next one', async () => {
    const q = new SerialQueue();
    await expect(q.run('k', async () => Promise.reject(new Error('409 five times')))).rejects.toThrow('409 five times');
    await expect(q.run('k', async () => 'ok')).resolves.toBe('ok');
  });
});
