// The metric-provider arguments and replies between Argo's Go types (pkg/apis/rollouts/v1alpha1/
// analysis_types.go, as the gob decoder hands them out) and the Kubernetes JSON shape of
// src/plugin/metric-provider.ts. The Go → JSON direction is rollout-json.ts's goToJson (same field-name
// rules, same loss of zero values); the JSON → Go direction exists only for the Measurement a provider
// returns, and checks it, because whatever goes back must be a Measurement Go's decoder accepts.

import { goTimeBinary, GobTime, isGobStruct, type GobValue, type GoMeasurement } from './gob/index.js';
import { asObject, goToJson, requireStruct, type JsonObject, type JsonValue } from './rollout-json.js';
import { ANALYSIS_PHASES, isAnalysisPhase, type AnalysisRun, type Measurement, type Metric } from '../plugin/metric-provider.js';

/** Something in an argument or a provider's reply that cannot be what Argo's types say. */
export class AnalysisShapeError extends Error {
  override readonly name = 'AnalysisShapeError';
}

/** Fills what gob leaves out of a Metric (its zero name, an empty provider block). */
function normaliseMetric(json: JsonObject): Metric {
  return { ...json, name: typeof json.name === 'string' ? json.name : '', provider: asObject(json.provider) } as unknown as Metric;
}

/** `v1alpha1.Metric` (as decoded) → the Kubernetes JSON shape. */
export function goMetricToJson(v: GobValue | undefined): Metric {
  return normaliseMetric(asObject(goToJson(requireStruct(v, 'Metric', AnalysisShapeError))));
}

/**
 * `*v1alpha1.AnalysisRun` → the Kubernetes JSON shape. Argo never sends a nil run (analysis/analysis.go
 * passes the run it reconciles), so its absence is an error rather than an empty run.
 */
export function goAnalysisRunToJson(v: GobValue | undefined): AnalysisRun {
  if (v === undefined || v === null) throw new AnalysisShapeError('AnalysisRun: Argo sent none (a nil *AnalysisRun)');
  const json = asObject(goToJson(requireStruct(v, 'AnalysisRun', AnalysisShapeError)));
  const metadata = asObject(json.metadata);
  if (typeof metadata.name !== 'string') metadata.name = '';
  const spec = asObject(json.spec);
  // An empty slice is not sent: no metrics arrive as none.
  spec.metrics = (Array.isArray(spec.metrics) ? spec.metrics : []).map((m) => normaliseMetric(asObject(m)) as unknown as JsonValue);
  return { ...json, metadata, spec } as unknown as AnalysisRun;
}

function phaseError(where: string, phase: unknown): AnalysisShapeError {
  const shown = phase === undefined ? 'missing' : JSON.stringify(phase);
  return new AnalysisShapeError(`${where}.phase: ${shown} is not an AnalysisPhase (${ANALYSIS_PHASES.join(', ')})`);
}

/** `v1alpha1.Measurement` (the one Argo hands to Resume and Terminate) → the JSON shape, its phase checked. */
export function goMeasurementToJson(v: GobValue | undefined): Measurement {
  const json = asObject(goToJson(requireStruct(v, 'Measurement', AnalysisShapeError)));
  if (!isAnalysisPhase(json.phase)) throw phaseError('measurement', json.phase);
  return json as unknown as Measurement;
}

/** The parts of a decoded Measurement an error reply keeps (Argo's MarkMeasurementError keeps all but phase and message). */
export type MeasurementBase = Omit<GoMeasurement, 'Phase' | 'Message'>;

/**
 * What an error reply keeps of the Measurement Argo sent, straight from the Go tree (times to the
 * nanosecond). Never throws: anything unusable is left out.
 */
export function goMeasurementBase(v: GobValue | undefined): MeasurementBase {
  if (!isGobStruct(v)) return {};
  const time = (t: GobValue | undefined): Uint8Array | undefined => (t instanceof GobTime ? goTimeBinary(t.unixSeconds, t.nanoseconds) : undefined);
  const out: { -readonly [K in keyof MeasurementBase]: MeasurementBase[K] } = {};
  const startedAt = time(v.StartedAt);
  const finishedAt = time(v.FinishedAt);
  const resumeAt = time(v.ResumeAt);
  if (startedAt) out.StartedAt = startedAt;
  if (finishedAt) out.FinishedAt = finishedAt;
  if (resumeAt) out.ResumeAt = resumeAt;
  if (typeof v.Value === 'string') out.Value = v.Value;
  if (v.Metadata instanceof Map) {
    const md: Record<string, string> = {};
    for (const [k, e] of v.Metadata) if (typeof k === 'string' && typeof e === 'string') setEntry(md, k, e);
    out.Metadata = md;
  }
  return out;
}

function setEntry(obj: Record<string, string>, key: string, value: string): void {
  // Keys come from the peer or a provider; never let one reach a prototype.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time → seconds since the Unix epoch and nanoseconds; throws naming the field otherwise. */
export function parseRFC3339(text: unknown, where: string): { unixSeconds: number; nanoseconds: number } {
  const m = typeof text === 'string' ? RFC3339.exec(text) : null;
  const bad = () => new AnalysisShapeError(`${where}: ${JSON.stringify(text)} is not an RFC 3339 time (for example 2026-03-04T05:06:07Z)`);
  if (!m) throw bad();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw bad();
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0..99 as 1900..1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  // Dates roll 31 April over into May: a day the month does not have is refused, as Go's time.Parse does.
  if (date.getUTCDate() !== day) throw bad();
  const ms = date.getTime();
  const zone = m[8]!;
  const offset = zone === 'Z' || zone === 'z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  const nanoseconds = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  return { unixSeconds: Math.floor(ms / 1000) - offset, nanoseconds };
}

/** Go's time binary form of an RFC 3339 time. */
export function rfc3339ToGoTime(text: unknown, where: string): Uint8Array {
  const { unixSeconds, nanoseconds } = parseRFC3339(text, where);
  return goTimeBinary(unixSeconds, nanoseconds);
}

function optionalString(m: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = m[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AnalysisShapeError(`${where}.${key}: expected a string, got ${typeof v}`);
  return v;
}

function optionalTime(m: Record<string, unknown>, key: string, where: string): Uint8Array | undefined {
  const v = m[key];
  return v === undefined || v === null ? undefined : rfc3339ToGoTime(v, `${where}.${key}`);
}

/**
 * A Measurement in the JSON shape → its Go shape for the reply, checked: a phase Argo knows, times in
 * RFC 3339, text where Go has strings. Throws AnalysisShapeError naming the field.
 */
export function measurementToGo(m: unknown, where = 'measurement'): GoMeasurement {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    throw new AnalysisShapeError(`${where}: expected an object, got ${m === null ? 'null' : Array.isArray(m) ? 'a list' : typeof m}`);
  }
  const r = m as Record<string, unknown>;
  if (!isAnalysisPhase(r.phase)) throw phaseError(where, r.phase);
  let metadata: Record<string, string> | undefined;
  if (r.metadata !== undefined && r.metadata !== null) {
    if (typeof r.metadata !== 'object' || Array.isArray(r.metadata)) throw new AnalysisShapeError(`${where}.metadata: expected an object of strings`);
    metadata = stringRecord(r.metadata as Record<string, unknown>, `${where}.metadata`);
  }
  const out: { -readonly [K in keyof GoMeasurement]: GoMeasurement[K] } = { Phase: r.phase };
  const message = optionalString(r, 'message', where);
  const value = optionalString(r, 'value', where);
  const startedAt = optionalTime(r, 'startedAt', where);
  const finishedAt = optionalTime(r, 'finishedAt', where);
  const resumeAt = optionalTime(r, 'resumeAt', where);
  if (message !== undefined) out.Message = message;
  if (startedAt) out.StartedAt = startedAt;
  if (finishedAt) out.FinishedAt = finishedAt;
  if (value !== undefined) out.Value = value;
  if (metadata) out.Metadata = metadata;
  if (resumeAt) out.ResumeAt = resumeAt;
  return out;
}

/** A plain object whose every value is a string (GetMetadata's reply, a measurement's metadata). */
export function stringRecord(r: Record<string, unknown>, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'string') throw new AnalysisShapeError(`${where}.${k}: expected a string, got ${v === null ? 'null' : typeof v}`);
    setEntry(out, k, v);
  }
  return out;
}
