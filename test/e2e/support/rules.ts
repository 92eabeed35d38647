// The safety rules every end-to-end scenario checks on what it sampled, as pure functions over samples (unit-tested
// in test/e2e-rules.test.ts, so a rule that could never fail is caught there, not in a green e2e run):
//   * enough samples: a sampler that saw (almost) nothing proves nothing;
//   * no early step: a sample whose Rollout status (read first) is past a setWeight step, and whose weights (read
//     after it) do not carry that step's weight at EVERY place that carries weights, is a step Argo advanced before
//     the load balancer carried it;
//   * no revert: mid-rollout, the canary share at a place never goes back down (a fallback to stable, a write that
//     lost a race, a restart that started from 0).
// A "place" is one thing that carries the weights: an ALB rule (per listener), an HTTPRoute's backendRefs, the
// Ingress action. Samples are read status first, places after, so the order of reads is what the rules rely on.

import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';

/** Weights per Service at each place, keyed by a name for the place (`alb :80 /*`, `route shop`). */
export type Places = Record<string, Record<string, number>>;

export interface Sample {
  at: number;
  /** status.currentStepIndex (read before the places). */
  step?: number;
  /** The number of canary steps in the spec the status was read with. */
  steps?: number;
  phase?: string;
  abort?: boolean;
  /** status.currentPodHash: samples of different revisions are never compared. */
  podHash?: string;
  fullyPromoted?: boolean;
  statusCanaryWeight?: number;
  places: Places;
  /** The first ALB place (kept for scenarios that look at one rule). */
  alb?: Record<string, number>;
}

/** The canary share of one place's weights as a percentage of the total weight. */
export function canaryShare(weights: Record<string, number> | undefined, canary: string): number | undefined {
  if (!weights) return undefined;
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : Math.round(((weights[canary] ?? 0) * 100) / total);
}

/** A canary step as the rules read it: its setWeight, when it has one. */
export interface StepView {
  setWeight?: number;
}

function midRollout(s: Sample): boolean {
  return s.step !== undefined && s.steps !== undefined && s.step < s.steps && !s.abort && !s.fullyPromoted;
}

export class RuleViolation extends Error {
  override name = 'RuleViolation';
}

/** Fails when fewer than `min` samples were taken (or, with `midRolloutMin`, fewer taken mid-rollout). */
export function requireSamples(what: string, samples: readonly Sample[], min: number, midRolloutMin = 0): void {
  if (samples.length < min) throw new RuleViolation(`${what}: ${samples.length} samples, fewer than the ${min} needed to judge anything`);
  const mid = samples.filter(midRollout).length;
  if (mid < midRolloutMin) throw new RuleViolation(`${what}: ${mid} samples taken mid-rollout, fewer than the ${midRolloutMin} needed`);
}

/**
 * No step past a setWeight before the load balancer carries it: for every mid-rollout sample at step s, the last
 * setWeight step j < s was verified, so every place must carry w_j or a weight of a later setWeight step (or the
 * end-of-steps weight, `maxWeight`). Places that `exempt` names are not judged (a place not built yet).
 */
export function noEarlyStep(
  samples: readonly Sample[],
  steps: readonly StepView[],
  canary: string,
  opts: { maxWeight?: number; exempt?: (place: string, s: Sample) => boolean } = {},
): string[] {
  const max = opts.maxWeight ?? 100;
  const violations: string[] = [];
  for (const s of samples) {
    if (!midRollout(s)) continue;
    let j = -1;
    for (let i = s.step! - 1; i >= 0; i--) {
      if (steps[i]?.setWeight !== undefined) {
        j = i;
        break;
      }
    }
    if (j < 0) continue;
    const allowed = new Set<number>([max]);
    for (let i = j; i < steps.length; i++) if (steps[i]?.setWeight !== undefined) allowed.add(steps[i]!.setWeight!);
    const names = Object.keys(s.places);
    if (names.length === 0) violations.push(`at step ${s.step} (past setWeight ${steps[j]!.setWeight} at step ${j}) no place carried any weight: ${JSON.stringify(s)}`);
    for (const place of names) {
      if (opts.exempt?.(place, s)) continue;
      const share = canaryShare(s.places[place], canary)!;
      if (!allowed.has(share)) {
        violations.push(
          `step ${s.step} reached while ${place} carried canary ${share} %, not setWeight ${steps[j]!.setWeight} (step ${j}) or a later one: ${JSON.stringify(s)}`,
        );
      }
    }
  }
  return violations;
}

/**
 * No revert: at each place, the canary share of consecutive mid-rollout samples of one revision never goes down.
 * Only samples followed by another mid-rollout sample count (a place read after its status may already show the
 * promotion's final switch, but never after the next status read says mid-rollout).
 */
export function noRevert(samples: readonly Sample[], canary: string): string[] {
  const violations: string[] = [];
  const last = new Map<string, { share: number; sample: Sample }>();
  for (let k = 0; k < samples.length; k++) {
    const s = samples[k]!;
    const next = samples[k + 1];
    if (!midRollout(s) || !next || !midRollout(next) || next.podHash !== s.podHash) continue;
    for (const [place, weights] of Object.entries(s.places)) {
      const share = canaryShare(weights, canary)!;
      const key = `${s.podHash}|${place}`;
      const prev = last.get(key);
      if (prev && share < prev.share) {
        violations.push(`${place} went back from canary ${prev.share} % to ${share} % mid-rollout: ${JSON.stringify(prev.sample)} then ${JSON.stringify(s)}`);
      }
      last.set(key, { share, sample: s });
    }
  }
  return violations;
}

/** The distinct successive canary shares one place carried (absent samples skipped). */
export function sharesAt(samples: readonly Sample[], place: string, canary: string): number[] {
  const out: number[] = [];
  for (const s of samples) {
    const share = canaryShare(s.places[place], canary);
    if (share !== undefined && out.at(-1) !== share) out.push(share);
  }
  return out;
}

/** Every place seen in the samples. */
export function placesOf(samples: readonly Sample[]): string[] {
  return [...new Set(samples.flatMap((s) => Object.keys(s.places)))].sort();
}

/** A rule's conditions, short: `path=/*`, `host=a.example.com path=/api`. */
export function conditionText(conditions: RuleCondition[] | undefined): string {
  const parts = (conditions ?? []).map((c) => {
    const cfg = (c.PathPatternConfig ?? c.HostHeaderConfig ?? c.HttpHeaderConfig ?? {}) as { Values?: string[]; HttpHeaderName?: string };
    const vals = (cfg.Values ?? c.Values ?? []).join(',');
    const field = c.Field === 'path-pattern' ? 'path' : c.Field === 'host-header' ? 'host' : c.Field === 'http-header' ? `header:${cfg.HttpHeaderName ?? ''}` : c.Field ?? '';
    return `${field}=${vals}`;
  });
  return parts.sort().join(' ') || '(no conditions)';
}

/** A managedFields entry as the API server returns it. */
export interface ManagedField {
  manager?: string;
  operation?: string;
  subresource?: string;
  time?: unknown;
  fieldsV1?: unknown;
}

/** The managers whose managedFields entry holds the field at `path` (`['spec', 'rules']` → `f:spec` → `f:rules`). */
export function fieldOwners(fields: readonly ManagedField[], path: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    let node: unknown = f.fieldsV1;
    for (const p of path) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[`f:${p}`] : undefined;
    if (node !== undefined) out.push(f.manager ?? '');
  }
  return [...new Set(out)].sort();
}

/** One recorded revision of an object whose spec carries weights (an HTTPRoute's backendRefs). */
export interface WeightRevision {
  resourceVersion: string;
  /** The weights this revision carries, in a form two revisions compare by (e.g. rule → Service → weight, as JSON). */
  weights: string;
  /** Who wrote this revision (the managers whose managedFields entry is new or has a new time since the previous revision). */
  writers: string[];
  /** The managers owning the field that carries the weights, in this revision. */
  owners: string[];
}

/**
 * The field-manager rule for weight-carrying writes: every revision after the first that changed the weights was
 * written by `manager` alone, and `manager` alone owns the field that carries them. Returns the violations.
 */
export function foreignWeightWrites(revisions: readonly WeightRevision[], manager: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < revisions.length; i++) {
    const r = revisions[i]!;
    if (r.weights === revisions[i - 1]!.weights) continue;
    if (r.writers.length !== 1 || r.writers[0] !== manager) out.push(`revision ${r.resourceVersion} changing the weights (${r.weights}) was written by [${r.writers.join(', ')}], not ${manager} alone`);
    if (r.owners.length !== 1 || r.owners[0] !== manager) out.push(`the weights in revision ${r.resourceVersion} are owned by [${r.owners.join(', ')}], not ${manager} alone`);
  }
  return out;
}
