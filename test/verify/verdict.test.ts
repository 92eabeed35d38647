// The shared gated verdict path (src/verify/verdict.ts) that every mode's VerifyWeight runs, without I/O: the gate's
// answers without a check, what is remembered (and what a write during the check does to it), the Event of each
// kind of verdict, the RPC answer, and failures the check throws.
import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../src/aws/elbv2.js';
import type { WeightStep } from '../../src/core/weights.js';
import type { RolloutEvent } from '../../src/plugin/hooks.js';
import { RpcVerified } from '../../src/plugin/router.js';
import { rolloutUid, VerifyGate, type VerifyMoment } from '../../src/verify/gate.js';
import { gatedVerdict, verdictAnswer, verdictEvent, type VerdictCheck, type VerdictReport } from '../../src/verify/verdict.js';
import { rollout } from './fixtures.js';

function step(desiredWeight = 10, r = rollout()): WeightStep {
  return { rollout: r, target: 'rule-a', services: { stable: 'stable-svc', canary: 'canary-svc', pingPong: false }, desiredWeight, additionalDestinations: [], maxWeight: 100 };
}

function setup() {
  const gate = new VerifyGate();
  const events: RolloutEvent[] = [];
  const lines: Array<[Record<string, unknown>, string]> = [];
  const infos: Array<[Record<string, unknown>, string]> = [];
  const log = {
    debug: (fields: Record<string, unknown>, msg: string) => lines.push([fields, msg]),
    info: (fields: Record<string, unknown>, msg: string) => infos.push([fields, msg]),
  } as never;
  const deps = { gate, mode: 'test', where: 'on the test rule', events: { emit: (_r: unknown, e: RolloutEvent) => events.push(e) }, log };
  let runs = 0;
  const check = (report: VerdictReport | (() => Promise<VerdictReport>), more: Partial<VerdictCheck<VerdictReport>> = {}): VerdictCheck<VerdictReport> => ({
    run: async () => {
      runs++;
      return typeof report === 'function' ? report() : report;
    },
    ...more,
  });
  return { gate, deps, events, lines, infos, check, runs: () => runs };
}

const verified: VerdictReport = { verified: true, reasons: [] };

describe('gatedVerdict', () => {
  it('checks at a setWeight step, remembers Verified (no second check), logs one debug line, emits the Normal Event', async () => {
    const t = setup();
    const s = step();
    await expect(gatedVerdict(t.deps, s, t.check(verified, { logFields: () => ({ elbv2Calls: 1 }) }))).resolves.toEqual({ verified: RpcVerified.Verified });
    await expect(gatedVerdict(t.deps, s, t.check(verified))).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(t.runs()).toBe(1);
    expect(t.lines).toEqual([
      [
        { mode: 'test', rollout: 'default/rollout', moment: 'setWeight step', desiredWeight: 10, verified: true, reasons: [], error: undefined, elbv2Calls: 1 },
        'weight verification',
      ],
    ]);
    expect(t.events).toEqual([{ type: 'Normal', reason: 'ALBPluginWeightVerified', message: 'Weights verified on the test rule: canary 10, stable 90' }]);
  });

  it('gated off (a fully promoted Rollout first seen): NotImplemented, no check, no Event', async () => {
    const t = setup();
    const s = step(0, rollout({ stableRS: 'same', currentPodHash: 'same' }));
    await expect(gatedVerdict(t.deps, s, t.check(verified))).resolves.toEqual({ verified: RpcVerified.NotImplemented });
    expect(t.runs()).toBe(0);
    expect(t.events).toEqual([]);
  });

  it('"not yet": NotVerified without Err, the first reason as the Event, and the next call checks again', async () => {
    const t = setup();
    const s = step();
    const notYet = { verified: false, reasons: ['canary 10 not yet set', 'stable 90 not yet set'] };
    await expect(gatedVerdict(t.deps, s, t.check(notYet))).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(t.events).toEqual([{ type: 'Warning', reason: 'ALBPluginWeightUnverified', message: 'canary 10 not yet set' }]);
    await expect(gatedVerdict(t.deps, s, t.check(verified))).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(t.runs()).toBe(2);
  });

  it('a write while the check runs: the answer is the check\'s, but it is not remembered (the next call checks again)', async () => {
    const t = setup();
    const s = step();
    const racing = t.check(async () => {
      t.gate.invalidate(rolloutUid(s.rollout));
      return verified;
    });
    await expect(gatedVerdict(t.deps, s, racing)).resolves.toEqual({ verified: RpcVerified.Verified });
    await expect(gatedVerdict(t.deps, s, t.check(verified))).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(t.runs()).toBe(2);
    // Without a write in between, the second verdict is remembered.
    await expect(gatedVerdict(t.deps, s, t.check(verified))).resolves.toEqual({ verified: RpcVerified.Verified });
    expect(t.runs()).toBe(2);
  });

  it('a thrown failure that passes by itself (throttled): NotVerified without Err, "checking again", checked again next time', async () => {
    const t = setup();
    const s = step();
    const throttled = new ThrottledError('DescribeRules', 6, new Error('Rate exceeded'));
    const failing = t.check(async () => {
      throw throttled;
    });
    await expect(gatedVerdict(t.deps, s, failing)).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(t.events.at(-1)).toEqual({ type: 'Warning', reason: 'ALBPluginWeightUnverified', message: `${throttled.message}; checking again` });
    expect(t.lines.at(-1)?.[0]).toMatchObject({ verified: false, error: throttled.message, transient: true });
    await expect(gatedVerdict(t.deps, s, t.check(verified))).resolves.toEqual({ verified: RpcVerified.Verified });
  });

  it('a thrown configuration error (AccessDenied): NotVerified with Err, and the error as the Event', async () => {
    const t = setup();
    const denied = Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:DescribeRules'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const res = await gatedVerdict(t.deps, step(), t.check(async () => Promise.reject(denied)));
    const text = 'AccessDenied: User is not authorized to perform: elasticloadbalancing:DescribeRules';
    expect(res).toEqual({ verified: RpcVerified.NotVerified, err: `weight verification failed: ${text}` });
    expect(t.events).toEqual([{ type: 'Warning', reason: 'ALBPluginWeightUnverified', message: text }]);
  });

  it('a failure thrown once the check\'s deadline fired is transient, whatever it says', async () => {
    const t = setup();
    const ac = new AbortController();
    const late = t.check(
      async () => {
        ac.abort(new Error('no answer within 5 ms'));
        throw new Error('no answer within 5 ms');
      },
      { deadline: () => ac.signal },
    );
    await expect(gatedVerdict(t.deps, step(), late)).resolves.toEqual({ verified: RpcVerified.NotVerified });
    expect(t.events).toEqual([{ type: 'Warning', reason: 'ALBPluginWeightUnverified', message: 'no answer within 5 ms; checking again' }]);
  });

  it('the deadline is made only when the check runs, and handed to it', async () => {
    const t = setup();
    let made = 0;
    const seen: Array<[VerifyMoment, AbortSignal]> = [];
    const signal = new AbortController().signal;
    const c: VerdictCheck<VerdictReport> = {
      deadline: () => (made++, signal),
      run: async (moment, s) => (seen.push([moment, s]), verified),
    };
    await gatedVerdict(t.deps, step(0, rollout({ stableRS: 'same', currentPodHash: 'same' })), c);
    expect(made).toBe(0);
    await gatedVerdict(t.deps, step(), c);
    expect(made).toBe(1);
    expect(seen).toEqual([['setWeight step', signal]]);
  });
});

describe('info lines (issue #20: one per verdict change, nothing per poll)', () => {
  it('logs a "not yet" once per reason, then the verified step once, never the remembered answers', async () => {
    const t = setup();
    const s = step();
    const pending = (reason: string): VerdictReport => ({ verified: false, reasons: [reason] });
    await gatedVerdict(t.deps, s, t.check(pending('canary 0 on the rule, want 10')));
    await gatedVerdict(t.deps, s, t.check(pending('canary 0 on the rule, want 10')));
    await gatedVerdict(t.deps, s, t.check(pending('canary 0 on the rule, want 10')));
    await gatedVerdict(t.deps, s, t.check(pending('no load balancer found for shop yet')));
    await gatedVerdict(t.deps, s, t.check(verified));
    await gatedVerdict(t.deps, s, t.check(verified));
    expect(t.runs()).toBe(5);
    expect(t.infos.map(([f, msg]) => [msg, f.reason, f.desiredWeight, f.stableWeight])).toEqual([
      ['weights not verified yet', 'canary 0 on the rule, want 10', 10, 90],
      ['weights not verified yet', 'no load balancer found for shop yet', 10, 90],
      ['weights verified on the load balancer', undefined, 10, 90],
    ]);
    // The next step's verdict is a change again.
    await gatedVerdict(t.deps, step(20), t.check(verified));
    expect(t.infos).toHaveLength(4);
  });
});

describe('verdictEvent and verdictAnswer', () => {
  it.each<[string, VerdictReport, ReturnType<typeof verdictEvent>, ReturnType<typeof verdictAnswer>]>([
    ['verified', verified, { type: 'Normal', reason: 'ALBPluginWeightVerified', message: 'Weights verified here: canary 10, stable 90' }, { verified: RpcVerified.Verified }],
    [
      'no load balancer yet',
      { verified: false, reasons: ['no load balancer found for hostname x', 'other'] },
      { type: 'Warning', reason: 'ALBPluginLoadBalancerNotFound', message: 'no load balancer found for hostname x' },
      { verified: RpcVerified.NotVerified },
    ],
    [
      'a later reason about a missing load balancer does not name the first',
      { verified: false, reasons: ['canary 10 not yet set', 'no load balancer found for hostname y'] },
      { type: 'Warning', reason: 'ALBPluginWeightUnverified', message: 'canary 10 not yet set' },
      { verified: RpcVerified.NotVerified },
    ],
    [
      'transient error (with reasons too)',
      { verified: false, reasons: ['canary 10 not yet set'], error: 'ServiceUnavailable: down', transient: true },
      { type: 'Warning', reason: 'ALBPluginWeightUnverified', message: 'ServiceUnavailable: down; checking again' },
      { verified: RpcVerified.NotVerified },
    ],
    [
      'configuration error (with reasons too)',
      { verified: false, reasons: ['canary 10 not yet set'], error: 'ValidationError: bad arn' },
      { type: 'Warning', reason: 'ALBPluginWeightUnverified', message: 'ValidationError: bad arn' },
      { verified: RpcVerified.NotVerified, err: 'weight verification failed: ValidationError: bad arn' },
    ],
    ['not verified without a reason', { verified: false, reasons: [] }, undefined, { verified: RpcVerified.NotVerified }],
  ])('%s', (_name, report, event, answer) => {
    expect(verdictEvent(step(), report, 'here')).toEqual(event);
    expect(verdictAnswer(report)).toEqual(answer);
  });
});
