import { describe, expect, it } from 'vitest';
import { ANALYSIS_DEFAULTS, type AnalysisConfig } from '../../src/analysis/config.js';
import { judge, percent, seconds, type JudgeInput, type MeasurementPhase } from '../../src/analysis/judge.js';
import type { TargetGroupTotals } from '../../src/analysis/totals.js';
import { queryWindow } from '../../src/analysis/window.js';

const WINDOW = queryWindow(new Date('2025-06-01T10:07:00Z'), 300, 120);

/** Totals from requests, errors and a mean latency (every request weighs in). */
const tg = (requests: number, errors = 0, latency?: number): TargetGroupTotals => ({
  requests,
  errors,
  latencySum: latency === undefined ? 0 : latency * requests,
  latencyWeight: latency === undefined ? 0 : requests,
});

const cfg = (c: Partial<AnalysisConfig>): AnalysisConfig => ({ ...ANALYSIS_DEFAULTS, ...c });

function input(config: Partial<AnalysisConfig>, canary: TargetGroupTotals, stable: TargetGroupTotals, extra: Partial<JudgeInput> = {}): JudgeInput {
  return {
    config: cfg(config),
    canary,
    stable,
    canaryWeight: 20,
    window: WINDOW,
    loadBalancers: ['k8s-demo-shop'],
    canaryTargetGroups: ['k8s-demo-canary'],
    stableTargetGroups: ['k8s-demo-stable'],
    ...extra,
  };
}

const ER = { maxErrorRate: 0.05 };
const ERI = { maxErrorRateIncrease: 0.01 };
const LAT = { maxLatencySeconds: 0.5 };
const LATI = { maxLatencyIncrease: 0.2 };
const ELB = { maxElb5xxCount: 10 };
const ALL = { ...ER, ...ERI, ...LAT, ...LATI, ...ELB };

// name, config, canary, stable, extra, phase, message fragments
const CASES: Array<[string, Partial<AnalysisConfig>, TargetGroupTotals, TargetGroupTotals, Partial<JudgeInput>, MeasurementPhase, string[]]> = [
  // Rule 1: no evidence is never a pass.
  ['no data at all', ALL, tg(0), tg(0), { elb5xx: 0 }, 'Inconclusive',
    ['canary served 0 requests in 5 min (10:00–10:05 UTC), fewer than minRequests 50', 'publishes ALB metrics only for minutes with requests']],
  ['canary weight 0, even with traffic left over', ALL, tg(500), tg(500), { canaryWeight: 0 }, 'Inconclusive', ['canary weight is 0: no traffic reaches the canary', 'window 5 min']],
  ['canary weight negative', ER, tg(500), tg(500), { canaryWeight: -1 }, 'Inconclusive', ['canary weight is -1']],
  ['canary weight NaN', ER, tg(500), tg(500), { canaryWeight: Number.NaN }, 'Inconclusive', ['canary weight is NaN']],
  ['canary weight unknown: requests decide', ER, tg(500), tg(500), { canaryWeight: undefined }, 'Successful', ['canary passed maxErrorRate']],
  ['too few canary requests, even all failing', ER, tg(49, 49), tg(5000), {}, 'Inconclusive', ['canary served 49 requests', 'fewer than minRequests 50: not enough traffic to judge']],
  ['exactly minRequests is enough', ER, tg(50), tg(5000), {}, 'Successful', ['canary 5xx rate 0 % (0 of 50 requests) ≤ maxErrorRate 5 %']],
  ['minRequests 1 with one request', { ...ER, minRequests: 1 }, tg(1), tg(0), {}, 'Successful', ['(0 of 1 requests)']],

  // Absolute error rate.
  ['5xx absent everywhere (no errors)', ER, tg(1000), tg(1000), {}, 'Successful', ['canary 5xx rate 0 % (0 of 1000 requests) ≤ maxErrorRate 5 %']],
  ['error rate at the threshold passes', ER, tg(1000, 50), tg(1000), {}, 'Successful', ['5 % (50 of 1000 requests) ≤ maxErrorRate 5 %']],
  ['error rate above the threshold fails', ER, tg(1000, 51), tg(1000), {}, 'Failed',
    ['canary failed maxErrorRate: canary 5xx rate 5.1 % (51 of 1000 requests) > maxErrorRate 5 %; window 5 min (10:00–10:05 UTC)']],
  ['maxErrorRate 0: one error fails', { maxErrorRate: 0 }, tg(1000, 1), tg(1000), {}, 'Failed', ['0.1 % (1 of 1000 requests) > maxErrorRate 0 %']],
  ['more 5xx than requests (inconsistent data) fails rather than passing', ER, tg(100, 150), tg(1000), {}, 'Failed', ['150 % (150 of 100 requests)']],

  // Relative error rate.
  ['canary 5xx well above stable', ERI, tg(1000, 100), tg(10000, 10), {}, 'Failed',
    ['canary failed maxErrorRateIncrease: canary 5xx rate 10 % (100 of 1000 requests) > stable 0.1 % (10 of 10000 requests) + maxErrorRateIncrease 1 point = 1.1 %']],
  ['canary within one point of a noisy stable', ERI, tg(1000, 45), tg(10000, 400), {}, 'Successful', ['4.5 %', '≤ stable 4 %', '= 5 %']],
  ['at stable + increase exactly (float sum 0.02 + 0.01)', ERI, tg(100, 3), tg(100, 2), {}, 'Successful', ['3 % (3 of 100 requests) ≤ stable 2 %']],
  ['zero stable requests: the relative check is skipped and with nothing else → Inconclusive', ERI, tg(1000, 500), tg(0), {}, 'Inconclusive',
    ['no check could be applied in 5 min (10:00–10:05 UTC): maxErrorRateIncrease skipped: the stable served 0 requests (fewer than minRequests 50)']],
  ['too few stable requests: relative skipped, absolute still applies and passes', { ...ER, ...ERI }, tg(1000, 20), tg(10, 0), {}, 'Successful',
    ['canary passed maxErrorRate over 5 min', '2 % (20 of 1000 requests) ≤ maxErrorRate 5 %', '; maxErrorRateIncrease skipped: the stable served 10 requests (fewer than minRequests 50)']],
  ['too few stable requests: absolute still applies and fails', { ...ER, ...ERI }, tg(1000, 200), tg(10, 0), {}, 'Failed', ['canary failed maxErrorRate: ']],
  ['stable with 0 errors and canary 0 errors (0 + 0 ≤ 0.01)', ERI, tg(100), tg(100), {}, 'Successful', ['0 % (0 of 100 requests) ≤ stable 0 % (0 of 100 requests)']],

  // Latency.
  ['latency under the ceiling', LAT, tg(500, 0, 0.2), tg(500, 0, 0.2), {}, 'Successful', ['canary mean response time 200 ms ≤ maxLatencySeconds 500 ms']],
  ['latency over the ceiling', LAT, tg(500, 0, 1.25), tg(500, 0, 0.2), {}, 'Failed', ['canary failed maxLatencySeconds: canary mean response time 1.25 s > maxLatencySeconds 500 ms']],
  ['no TargetResponseTime for the canary: latency check skipped → Inconclusive', LAT, tg(500), tg(500, 0, 0.2), {}, 'Inconclusive',
    ['maxLatencySeconds skipped: CloudWatch has no TargetResponseTime for the canary in the window']],
  ['latency 20 % over stable passes at +20 %', LATI, tg(500, 0, 0.12), tg(500, 0, 0.1), {}, 'Successful', ['120 ms ≤ stable 100 ms + maxLatencyIncrease 20 % = 120 ms']],
  ['latency 50 % over stable fails', LATI, tg(500, 0, 0.15), tg(500, 0, 0.1), {}, 'Failed',
    ['canary failed maxLatencyIncrease: canary mean response time 150 ms > stable 100 ms + maxLatencyIncrease 20 % = 120 ms']],
  ['latency relative, stable without TargetResponseTime', LATI, tg(500, 0, 0.15), tg(500), {}, 'Inconclusive', ['no TargetResponseTime for the stable']],
  ['latency relative, canary without TargetResponseTime', LATI, tg(500), tg(500, 0, 0.1), {}, 'Inconclusive', ['no TargetResponseTime for the canary']],
  ['latency relative, stable too small', { ...LATI, ...LAT }, tg(500, 0, 0.3), tg(5, 0, 0.01), {}, 'Successful',
    ['canary passed maxLatencySeconds', 'maxLatencyIncrease skipped: the stable served 5 requests']],
  ['latency relative, stable at 0 s (sub-ms service) and canary at 0 s', LATI, tg(500, 0, 0), tg(500, 0, 0), {}, 'Successful', ['0 ms ≤ stable 0 ms']],

  // ELB 5xx guard.
  ['ELB 5xx under the ceiling', ELB, tg(500), tg(500), { elb5xx: 3 }, 'Successful', ['the load balancer answered 3 5xx itself (HTTPCode_ELB_5XX_Count) ≤ maxElb5xxCount 10']],
  ['ELB 5xx over the ceiling', ELB, tg(500), tg(500), { elb5xx: 11 }, 'Failed', ['canary failed maxElb5xxCount: the load balancer answered 11 5xx itself (HTTPCode_ELB_5XX_Count) > maxElb5xxCount 10']],
  ['ELB 5xx over the ceiling on several load balancers', ELB, tg(500), tg(500), { elb5xx: 40, loadBalancers: ['a', 'b'] }, 'Failed',
    ['the 2 load balancers answered 40 5xx themselves', 'canary and stable each summed over 2 load balancers']],
  ['ELB guard configured but not measured', ELB, tg(500), tg(500), {}, 'Inconclusive', ['maxElb5xxCount skipped: HTTPCode_ELB_5XX_Count was not measured']],

  // Several checks.
  ['all checks pass', ALL, tg(1000, 5, 0.11), tg(9000, 30, 0.1), { elb5xx: 0 }, 'Successful',
    ['canary passed 5 checks over 5 min (10:00–10:05 UTC): canary 5xx rate 0.5 %', 'maxElb5xxCount 10']],
  ['four checks fail: all named', ALL, tg(1000, 80, 0.9), tg(9000, 30, 0.1), { elb5xx: 0 }, 'Failed',
    ['canary failed 4 checks (maxErrorRate, maxErrorRateIncrease, maxLatencySeconds, maxLatencyIncrease): canary 5xx rate 8 %']],
  ['several load balancers: said so', ER, tg(1000), tg(1000), { loadBalancers: ['a', 'b', 'c'] }, 'Successful',
    ['over 5 min (10:00–10:05 UTC), canary and stable each summed over 3 load balancers: ']],
];

describe('judge', () => {
  it.each(CASES)('%s', (_name, config, canary, stable, extra, phase, fragments) => {
    const m = judge(input(config, canary, stable, extra));
    expect(m.phase).toBe(phase);
    for (const f of fragments) expect(m.message).toContain(f);
    // Arithmetic stays NaN-free whatever the totals: the value is valid JSON with the same numbers back.
    const json = JSON.stringify(m.value);
    expect(json).not.toMatch(/NaN|Infinity/);
    expect(JSON.parse(json)).toEqual(m.value);
    expect(m.message).not.toMatch(/NaN %|undefined|Infinity/);
    if (process.env.SHOW_MESSAGES) console.log(`${m.phase}: ${m.message}`);
  });

  it('the value holds the numbers used, rounded for display', () => {
    const m = judge(input({ ...ERI, ...LAT, ...ELB }, tg(3000, 100, 0.123456789), tg(9000, 30, 0.1), { elb5xx: 2 }));
    expect(m.phase).toBe('Failed');
    expect(m.value).toEqual({
      window: { start: '2025-06-01T10:00:00.000Z', end: '2025-06-01T10:05:00.000Z', minutes: 5 },
      canaryWeight: 20,
      loadBalancers: ['k8s-demo-shop'],
      canary: { targetGroups: ['k8s-demo-canary'], requests: 3000, errors: 100, errorRate: 0.033333, latencySeconds: 0.123457 },
      stable: { targetGroups: ['k8s-demo-stable'], requests: 9000, errors: 30, errorRate: 0.003333, latencySeconds: 0.1 },
      elb5xx: 2,
      minRequests: 50,
      checks: [
        { check: 'maxErrorRateIncrease', result: 'fail', observed: 0.033333, limit: 0.013333 },
        { check: 'maxLatencySeconds', result: 'pass', observed: 0.123457, limit: 0.5 },
        { check: 'maxElb5xxCount', result: 'pass', observed: 2, limit: 10 },
      ],
    });
  });

  it('skipped checks carry their reason in the value', () => {
    const m = judge(input({ ...ER, ...ERI }, tg(100), tg(0)));
    expect(m.value?.checks).toEqual([
      { check: 'maxErrorRate', result: 'pass', observed: 0, limit: 0.05 },
      { check: 'maxErrorRateIncrease', result: 'skipped', observed: 0, limit: null, reason: 'the stable served 0 requests (fewer than minRequests 50)' },
    ]);
    expect(m.value?.stable).toEqual({ targetGroups: ['k8s-demo-stable'], requests: 0, errors: 0, errorRate: null, latencySeconds: null });
  });

  it('Inconclusive for too little traffic shows the numbers and no checks', () => {
    const m = judge(input(ER, tg(10, 1, 0.2), tg(1000)));
    expect(m.value?.checks).toEqual([]);
    expect(m.value?.canary.requests).toBe(10);
  });

  it('elb5xx appears in the value only when the guard is configured', () => {
    expect(judge(input(ER, tg(100), tg(100), { elb5xx: 5 })).value).not.toHaveProperty('elb5xx');
  });
});

describe('number formats', () => {
  it.each<[number, string]>([
    [0, '0 %'],
    [0.05, '5 %'],
    [0.051, '5.1 %'],
    [1 / 3, '33.333 %'],
    [0.00001, '0.001 %'],
    [0.000001, '0 %'],
    [1.5, '150 %'],
  ])('percent(%d) = %s', (x, text) => expect(percent(x)).toBe(text));

  it.each<[number, string]>([
    [0, '0 ms'],
    [0.0001234, '0.1 ms'],
    [0.2, '200 ms'],
    [0.9999, '999.9 ms'],
    [1, '1 s'],
    [1.23456, '1.235 s'],
  ])('seconds(%d) = %s', (x, text) => expect(seconds(x)).toBe(text));
});
