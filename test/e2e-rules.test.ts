// The end-to-end suite's safety rules (test/e2e/support/rules.ts) on hand-made samples: each rule fails on the
// timeline it exists to catch, and passes on a correct one.
import { describe, expect, it } from 'vitest';
import { noEarlyStep, noRevert, requireSamples, sharesAt, type Sample } from './e2e/support/rules.js';

const STEPS = [{ setWeight: 20 }, {}, { setWeight: 50 }, {}];
let t = 0;
const s = (step: number, places: Record<string, number>, extra: Partial<Sample> = {}): Sample => ({
  at: t++,
  step,
  steps: 4,
  podHash: 'new',
  fullyPromoted: false,
  places: Object.fromEntries(Object.entries(places).map(([p, c]) => [p, { canary: c, stable: 100 - c }])),
  ...extra,
});

describe('e2e safety rules', () => {
  it('noEarlyStep: a step past setWeight 20 while one listener still carries 0 is a violation; every listener is judged', () => {
    const good = [s(0, { a: 0, b: 0 }), s(0, { a: 20, b: 20 }), s(1, { a: 20, b: 20 }), s(2, { a: 20, b: 20 }), s(2, { a: 50, b: 20 }), s(3, { a: 50, b: 50 })];
    expect(noEarlyStep(good, STEPS, 'canary')).toEqual([]);
    expect(noEarlyStep([s(1, { a: 20, b: 0 })], STEPS, 'canary')).toHaveLength(1);
    expect(noEarlyStep([s(3, { a: 50, b: 20 })], STEPS, 'canary')).toHaveLength(1);
    // Aborted and fully promoted samples are not mid-rollout.
    expect(noEarlyStep([s(1, { a: 0 }, { abort: true }), s(4, { a: 0 }), s(1, { a: 0 }, { fullyPromoted: true })], STEPS, 'canary')).toEqual([]);
    // A sample at a step with no place at all proves the step was taken without weights.
    expect(noEarlyStep([s(1, {})], STEPS, 'canary')).toHaveLength(1);
    expect(noEarlyStep([s(1, { a: 0 })], STEPS, 'canary', { exempt: (p) => p === 'a' })).toEqual([]);
  });

  it('noRevert: a share that goes down mid-rollout is a violation; the final switch after the last mid-rollout sample is not', () => {
    const good = [s(0, { a: 0 }), s(0, { a: 20 }), s(1, { a: 20 }), s(2, { a: 50 }), s(3, { a: 50 }), s(3, { a: 0 }), s(4, { a: 0 })];
    expect(noRevert(good, 'canary')).toEqual([]);
    const bad = [s(1, { a: 20 }), s(1, { a: 0 }), s(2, { a: 20 }), s(3, { a: 50 })];
    expect(noRevert(bad, 'canary')).toHaveLength(1);
    // Per place: one listener going back is caught even when the other climbs.
    expect(noRevert([s(2, { a: 20, b: 50 }), s(2, { a: 50, b: 20 }), s(3, { a: 50, b: 50 })], 'canary')).toHaveLength(1);
    // Different revisions are never compared.
    expect(noRevert([s(1, { a: 50 }), s(1, { a: 0 }, { podHash: 'other' }), s(1, { a: 0 }, { podHash: 'other' })], 'canary')).toEqual([]);
  });

  it('requireSamples and sharesAt', () => {
    expect(() => requireSamples('x', [], 1)).toThrow(/0 samples/);
    expect(() => requireSamples('x', [s(4, { a: 0 }), s(4, { a: 0 })], 2, 1)).toThrow(/mid-rollout/);
    expect(sharesAt([s(0, { a: 0 }), s(0, { a: 0 }), s(1, { a: 20 }), s(2, {})], 'a', 'canary')).toEqual([0, 20]);
  });
});
