// The end-to-end suite's safety rules (test/e2e/support/rules.ts) on hand-made samples: each rule fails on the
// timeline it exists to catch, and passes on a correct one.
import { describe, expect, it } from 'vitest';
import { fieldOwners, foreignWeightWrites, noEarlyStep, noRevert, requireSamples, sharesAt, type Sample, type WeightRevision } from './e2e/support/rules.js';

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

  it('fieldOwners: the managers holding a field path in managedFields (an atomic list is one f: key)', () => {
    const fields = [
      { manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': { 'f:parentRefs': {} } } },
      { manager: 'plugin', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:x': {} } }, 'f:spec': { 'f:rules': {} } } },
      { manager: 'lbc', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': {} } },
    ];
    expect(fieldOwners(fields, ['spec', 'rules'])).toEqual(['plugin']);
    expect(fieldOwners(fields, ['spec'])).toEqual(['kubectl', 'plugin']);
    expect(fieldOwners(fields, ['spec', 'hostnames'])).toEqual([]);
  });

  it('foreignWeightWrites: a weight change by another writer, or with the weights owned by another, is a violation; other revisions are not judged', () => {
    const r = (rv: string, weights: string, writers: string[], owners = ['plugin']): WeightRevision => ({ resourceVersion: rv, weights, writers, owners });
    const good = [r('1', 'w0', ['kubectl'], ['kubectl']), r('2', 'w20', ['plugin']), r('3', 'w20', ['lbc']), r('4', 'w0', ['plugin'])];
    expect(foreignWeightWrites(good, 'plugin')).toEqual([]);
    expect(foreignWeightWrites([...good, r('5', 'w50', ['kubectl'])], 'plugin')).toEqual([expect.stringMatching(/revision 5 .* written by \[kubectl\]/)]);
    expect(foreignWeightWrites([...good, r('5', 'w50', ['plugin', 'kubectl'])], 'plugin')).toHaveLength(1);
    expect(foreignWeightWrites([...good, r('5', 'w50', ['plugin'], ['argocd'])], 'plugin')).toEqual([expect.stringMatching(/owned by \[argocd\]/)]);
  });
});
