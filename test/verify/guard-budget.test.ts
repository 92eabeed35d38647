// The final-switch guard inside one plugin call (issue #12 item 3): it keeps to its share of the call's
// deadline, so SetWeight answers with the guard's own reason instead of the generic timeout, and a call
// whose deadline has passed never switches.
import { describe, expect, it } from 'vitest';
import { CallCancelledError, type CallContext } from '../../src/plugin/call.js';
import { createSetWeightGuard } from '../../src/verify/guard.js';
import type { TargetsReport } from '../../src/verify/target-health.js';
import { request, rollout } from './fixtures.js';

const finalSwitch = () => request({ rollout: rollout({ stableRS: 'n', currentPodHash: 'n', canaryWeight: 100 }), desired: 0 });
const verified: TargetsReport = { namespace: 'default', service: 'stable-svc', mode: 'healthy', verified: true, reasons: [], targetGroups: [] };

function call(timeoutMs: number, signal = new AbortController().signal): CallContext {
  return { signal, deadline: Date.now() + timeoutMs, timeoutMs };
}

describe('final-switch guard within the call budget', () => {
  it('holds with its own reason once the target check has used 40 % of the deadline', async () => {
    const guard = createSetWeightGuard({ enabled: true, verifyTargets: () => new Promise<TargetsReport>(() => {}) });
    const started = Date.now();
    const decision = await guard.beforeSetWeight(finalSwitch(), call(1000));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(900);
    expect(decision).toEqual({
      hold: true,
      reason:
        'holding traffic on the canary: waiting for the target groups of stable Service default/stable-svc to hold the new pods ' +
        'before switching back to stable: the target check did not finish within 0.4s (its share of --rpc-timeout-seconds); ' +
        'the next reconcile checks again',
    });
  });

  it('never takes more than what is left before the deadline minus the time to answer', async () => {
    const guard = createSetWeightGuard({ enabled: true, verifyTargets: () => new Promise<TargetsReport>(() => {}) });
    // 25 s deadline, of which only 300 ms are left: the guard gets 300 ms − 1 s reserve → nothing.
    const late: CallContext = { signal: new AbortController().signal, deadline: Date.now() + 300, timeoutMs: 25_000 };
    const started = Date.now();
    const decision = await guard.beforeSetWeight(finalSwitch(), late);
    expect(Date.now() - started).toBeLessThan(200);
    expect(decision).toMatchObject({ hold: true, reason: expect.stringContaining('did not finish within 0s') as unknown as string });
  });

  it('a call whose deadline fires during the check does not switch, even when the check then says verified', async () => {
    const ac = new AbortController();
    let answer!: (r: TargetsReport) => void;
    const guard = createSetWeightGuard({ enabled: true, verifyTargets: () => new Promise<TargetsReport>((r) => (answer = r)) });
    const pending = guard.beforeSetWeight(finalSwitch(), call(60_000, ac.signal)).catch((e: unknown) => e);
    ac.abort(new Error('Plugin.SetWeight did not finish within 25s'));
    answer(verified);
    const err = await pending;
    expect(err).toBeInstanceOf(CallCancelledError);
    expect((err as Error).message).toBe('the final switch to stable not done: Plugin.SetWeight did not finish within 25s');
  });

  it('without a call (HTTP API, tests) the check runs to its own end', async () => {
    const guard = createSetWeightGuard({
      enabled: true,
      verifyTargets: () => new Promise<TargetsReport>((r) => setTimeout(() => r(verified), 50)),
    });
    expect(await guard.beforeSetWeight(finalSwitch())).toEqual({ hold: false });
  });
});
