// The metric-provider plugin's gob traffic against what Go wrote (fixtures/metric-vectors.json, from
// test/goplugin/gobgen metric.go): Argo's calls decoded and converted to the Kubernetes JSON shape (checked
// against encoding/json's rendering of the same AnalysisRun and the json tags of every reachable field), and
// the Measurement and map replies our encoder writes, message for message against Go's encoder.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GobDecoder, GobEncoder, GobInterface, type GobStruct, type GobValue } from '../../../src/goplugin/gob/index.js';
import { jsonFieldName } from '../../../src/goplugin/rollout-json.js';
import {
  AnalysisShapeError,
  goAnalysisRunToJson,
  goMeasurementBase,
  goMeasurementToJson,
  goMetricToJson,
  measurementToGo,
  parseRFC3339,
} from '../../../src/goplugin/analysis-json.js';
import { canonical, decodeChunks, normaliseGo, randomChunks, type Vector } from './fixtures.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const metricVectors = fixture('metric-vectors.json') as Vector[];
const mvector = (name: string): Vector => metricVectors.find((v) => v.name === name)!;

const streamVector = mvector('argo metric-provider plugin stream');
const calls = decodeChunks([Buffer.from(streamVector.hex, 'hex')]);
/** The argument struct of request i (headers and bodies alternate). */
const argOf = (i: number): GobInterface => calls[2 * i + 1] as GobInterface;
const [runArgs, resumeArgs, terminateArgs, gcArgs, metadataArgs] = [2, 3, 4, 5, 6].map(argOf) as [GobInterface, GobInterface, GobInterface, GobInterface, GobInterface];
const field = (a: GobInterface, name: string): GobValue | undefined => (a.value as GobStruct)[name];

interface FieldName {
  type: string;
  field: string;
  json: string;
  inline?: boolean;
  skip?: boolean;
}

describe("Argo's metric-provider calls, decoded", () => {
  it.each([
    ['whole', (b: Uint8Array) => [b]],
    ['in random chunks', (b: Uint8Array) => randomChunks(b, 7, 300)],
  ])('are the values Go encoded (%s)', (_how, split) => {
    for (const v of metricVectors) {
      expect(decodeChunks(split(Buffer.from(v.hex, 'hex'))).map(canonical), v.name).toEqual(v.values.map(normaliseGo));
    }
  });

  it('carry the argument structs under the names Argo registers, for the methods Argo calls', () => {
    const methods = calls.filter((_, i) => i % 2 === 0).map((h) => (h as GobStruct).ServiceMethod);
    expect(methods).toEqual(['Plugin.InitPlugin', 'Plugin.Type', 'Plugin.Run', 'Plugin.Resume', 'Plugin.Terminate', 'Plugin.GarbageCollect', 'Plugin.GetMetadata']);
    expect([argOf(0), argOf(1)]).toEqual([null, null]);
    expect([runArgs, resumeArgs, terminateArgs, gcArgs, metadataArgs].map((a) => a.name)).toEqual([
      'RunArgs',
      'TerminateAndResumeArgs',
      'TerminateAndResumeArgs',
      'GarbageCollectArgs',
      'GetMetadataArgs',
    ]);
    expect(field(gcArgs, 'Limit')).toBe(10);
  });
});

/** Drops what gob cannot carry (zero values) from encoding/json's output. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((e) => prune(e) ?? null);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) {
      const p = prune(e);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v === null || v === '' || v === 0 || v === false ? undefined : v;
}

describe('the AnalysisRun and Metric in the Kubernetes JSON shape', () => {
  const run = goAnalysisRunToJson(field(runArgs, 'AnalysisRun'));
  const metric = goMetricToJson(field(runArgs, 'Metric'));

  it('equal encoding/json of the same AnalysisRun, minus what gob drops', () => {
    expect(prune(JSON.parse(JSON.stringify(run)))).toEqual(prune(fixture('analysisrun.json')));
  });

  it('give a provider what it reads: owner, canary hash, args, its own configuration, the measurements so far', () => {
    expect(run.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(run.kind).toBe('AnalysisRun');
    expect(run.metadata).toMatchObject({ name: 'checkout-7d9f8c6b5-17-2', namespace: 'shop', generation: 3, creationTimestamp: '2026-03-04T05:10:00Z' });
    expect(run.metadata.labels!['rollouts-pod-template-hash']).toBe('7d9f8c6b5');
    expect(run.metadata.ownerReferences).toEqual([
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'checkout', uid: '6f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8', controller: true, blockOwnerDeletion: true },
    ]);
    expect(run.spec.args![3]).toEqual({ name: 'api-token', valueFrom: { secretKeyRef: { name: 'analysis-secrets', key: 'token' } } });
    expect(run.spec.metrics.map((m) => m.name)).toEqual(['alb-5xx-rate', 'p99-latency', 'sidecar-verified']);
    // int-or-string limits keep their kind; Go durations stay text.
    expect(run.spec.metrics[0]).toMatchObject({ interval: '1m', initialDelay: '30s', count: 5, failureLimit: 1, consecutiveErrorLimit: 2 });
    expect(run.spec.metrics[1]!.count).toBe('3');
    expect((run.spec.metrics[2]!.provider.web as { authentication: unknown }).authentication).toEqual({
      sigv4: {},
      oauth2: { tokenUrl: 'https://auth.example.com/token', clientId: 'analysis', clientSecret: 's3cr3t', scopes: ['read'] },
    });
    const results = run.status!.metricResults![0]!;
    expect(results.metadata).toEqual({ resolvedQuery: 'targetErrorRate(checkout)' });
    expect(results.measurements).toEqual([
      { phase: 'Successful', startedAt: '2026-03-04T05:10:31Z', finishedAt: '2026-03-04T05:10:32Z', value: '0.002', metadata: { requests: '1200' } },
      { phase: 'Running', startedAt: '2026-03-04T05:11:32Z', resumeAt: '2026-03-04T05:11:47Z', metadata: { queryId: 'q-0002' } },
    ]);
    expect(run.status!.phase).toBe('Running');
  });

  it('parse the plugin configuration (json.RawMessage) under the plugin name', () => {
    expect(metric.name).toBe('alb-5xx-rate');
    expect(metric.provider.plugin).toEqual({
      'argoproj-labs/alb-analysis': {
        rollout: 'checkout',
        query: 'targetErrorRate',
        threshold: 0.01,
        periodSeconds: 60,
        ingresses: ['checkout', 'checkout-internal'],
        note: 'ünïcødé ✓ 🚀',
      },
    });
    expect(goMetricToJson(field(metadataArgs, 'Metric'))).toEqual(metric);
  });

  const names = (fixture('metric-json-names.json') as FieldName[]).filter(
    (n) =>
      !['github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc.', 'k8s.io/apimachinery/pkg/util/intstr.IntOrString', 'k8s.io/apimachinery/pkg/api/resource.Quantity', 'k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1', 'k8s.io/apimachinery/pkg/apis/meta/v1.Time'].some((t) =>
        n.type.startsWith(t),
      ),
  );

  it(`name all ${names.length} fields reachable from the metric-provider arguments by their json tags`, () => {
    // The Metric's Job provider reaches a whole pod template: hundreds of fields.
    expect(names.length).toBeGreaterThan(500);
    const wrong = names
      .map((n) => ({ ...n, got: jsonFieldName(n.field) }))
      .filter((n) => n.got !== (n.inline || n.skip ? undefined : n.json))
      .map((n) => `${n.type}.${n.field}: want ${n.json || '(inline/skip)'}, got ${n.got}`);
    expect(wrong).toEqual([]);
  });

  it('refuse a missing AnalysisRun and a non-struct Metric, naming them', () => {
    const bare = decodeChunks([Buffer.from(mvector('argo metric-provider Run without an AnalysisRun').hex, 'hex')])[1] as GobInterface;
    expect(() => goAnalysisRunToJson((bare.value as GobStruct).AnalysisRun)).toThrow(new AnalysisShapeError('AnalysisRun: Argo sent none (a nil *AnalysisRun)'));
    expect(goMetricToJson((bare.value as GobStruct).Metric)).toEqual({ name: 'bare', provider: {} });
    expect(() => goMetricToJson('x')).toThrow('Metric: expected a Go struct, got string');
    expect(() => goAnalysisRunToJson([])).toThrow('AnalysisRun: expected a Go struct, got a list');
  });
});

describe('the Measurement Argo hands to Resume and Terminate', () => {
  it('arrives in the JSON shape, times in whole seconds as Kubernetes JSON shows them', () => {
    expect(goMeasurementToJson(field(resumeArgs, 'Measurement'))).toEqual({
      phase: 'Running',
      startedAt: '2026-03-04T05:11:32Z',
      resumeAt: '2026-03-04T05:11:47Z',
      metadata: { queryId: 'q-0002' },
    });
    expect(goMeasurementToJson(field(terminateArgs, 'Measurement'))).toEqual({
      phase: 'Successful',
      message: '5xx rate 0.2 % ≤ 1 % ✓',
      startedAt: '2026-03-04T05:11:32Z',
      finishedAt: '2026-03-04T05:11:33Z',
      value: '0.002',
      metadata: { requests: '1200' },
      resumeAt: '1999-12-31T23:59:59Z',
    });
  });

  it('keeps its Go times to the nanosecond for an error reply (goMeasurementBase)', () => {
    const base = goMeasurementBase(field(terminateArgs, 'Measurement'));
    expect(Buffer.from(base.StartedAt!).toString('hex')).toBe('010000000ee139b604075bcd15ffff');
    expect(base).toMatchObject({ Value: '0.002', Metadata: { requests: '1200' } });
    expect(goMeasurementBase(undefined)).toEqual({});
    expect(goMeasurementBase('x')).toEqual({});
  });

  it('is refused with a phase Argo does not have', () => {
    const dec = new GobDecoder();
    const enc = new GobEncoder();
    dec.feed(enc.encodeMeasurement({ Phase: 'Done' }));
    expect(() => goMeasurementToJson(dec.next())).toThrow(
      'measurement.phase: "Done" is not an AnalysisPhase (Pending, Running, Successful, Failed, Error, Inconclusive)',
    );
    dec.feed(enc.encodeMeasurement({ Phase: '' }));
    expect(() => goMeasurementToJson(dec.next())).toThrow('measurement.phase: missing is not an AnalysisPhase');
  });
});

// ----- our encoder against Go's -----

function readUint(b: Buffer, at: number): [value: number, next: number] {
  const first = b[at]!;
  if (first < 0x80) return [first, at + 1];
  const n = 256 - first;
  return [b.readUIntBE(at + 1, n), at + 1 + n];
}

function readInt(b: Buffer, at: number): [value: number, next: number] {
  const [u, next] = readUint(b, at);
  return [u % 2 === 1 ? -(u - 1) / 2 - 1 : u / 2, next];
}

interface Message {
  /** Negative for a type definition. */
  id: number;
  body: Buffer;
}

function messages(stream: Buffer): Message[] {
  const out: Message[] = [];
  for (let at = 0; at < stream.length; ) {
    const [len, start] = readUint(stream, at);
    const body = stream.subarray(start, start + len);
    out.push({ id: readInt(body, 0)[0], body });
    at = start + len;
  }
  return out;
}

/** Go's type ids in a stream, found by what each definition says. */
function goIds(stream: Buffer): Record<string, number> {
  const defs = messages(stream).filter((m) => m.id < 0);
  const id = (pick: (m: Message) => boolean): number | undefined => {
    const d = defs.find(pick);
    return d && -d.id;
  };
  const has = (m: Message, text: string): boolean => m.body.includes(Buffer.from(text));
  const afterId = (m: Message): number => m.body[readInt(m.body, 0)[1]]!;
  const out: Record<string, number | undefined> = {
    RpcError: id((m) => has(m, 'RpcError')),
    Measurement: id((m) => has(m, 'Measurement')),
    StringMap: id((m) => has(m, 'map[string]string')),
    // The GobEncoderT (wireType field 4, delta 5) Measurement's time fields point at: the nameless one.
    Time: id((m) => afterId(m) === 5 && !has(m, 'Time')),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, number] => e[1] !== undefined));
}

describe('Measurement and map replies against Go', () => {
  const goStream = Buffer.from(mvector('argo metric-provider replies').hex, 'hex');
  const sample = {
    Phase: 'Successful',
    Message: '5xx rate 0.2 % ≤ 1 % ✓',
    StartedAt: measurementToGo({ phase: 'Running', startedAt: '2026-03-04T05:11:32.123456789Z' }).StartedAt,
    FinishedAt: measurementToGo({ phase: 'Running', startedAt: '2026-03-04T05:11:33Z' }).StartedAt,
    Value: '0.002',
    Metadata: { requests: '1200' },
    ResumeAt: measurementToGo({ phase: 'Running', startedAt: '1999-12-31T23:59:59.999999999Z' }).StartedAt,
  };

  it('writes every value byte for byte as Go does (given Go\'s type ids)', () => {
    const enc = new GobEncoder({ typeIds: goIds(goStream) });
    const ours = Buffer.concat([
      enc.encodeRpcError(''),
      enc.encodeMeasurement(sample),
      enc.encodeMeasurement({ Phase: 'Running' }),
      enc.encodeMeasurement({ Phase: 'Error', Message: 'm', Metadata: {} }),
      enc.encodeStringMap({ resolvedQuery: 'targetErrorRate(checkout)' }),
      enc.encodeStringMap({}),
    ]);
    const values = (s: Buffer) => messages(s).filter((m) => m.id > 0).map((m) => m.body.toString('hex'));
    expect(values(ours)).toEqual(values(goStream));
    // Our definitions are Go's (Go also sends an unused definition of the named metav1.Time, and gives the
    // nameless one a second, unused inner id; decoders ignore both).
    const defs = (s: Buffer) => messages(s).filter((m) => m.id < 0);
    const goDefs = defs(goStream).map((m) => m.body.toString('hex'));
    for (const d of defs(ours)) {
      if (d.id === -goIds(goStream).Time!) continue;
      expect(goDefs).toContain(d.body.toString('hex'));
    }
    expect(decodeChunks([ours]).map(canonical)).toEqual(mvector('argo metric-provider replies').values.map(normaliseGo));
  });

  it('a metadata map that opens its stream: definition and value exactly as Go writes them', () => {
    const go = Buffer.from(mvector('argo metric-provider metadata reply first on its stream').hex, 'hex');
    const ours = new GobEncoder({ typeIds: goIds(go) }).encodeStringMap({ k: 'v' });
    expect(ours.toString('hex')).toBe(go.toString('hex'));
  });

  it('with the default ids: Measurement 71, StringMap 72, the time shared with the deadline reply (70)', () => {
    const enc = new GobEncoder();
    expect(messages(enc.encodeMeasurement(sample)).map((m) => m.id)).toEqual([-70, -72, -71, 71]);
    expect(messages(enc.encodeStringMap({})).map((m) => m.id)).toEqual([72]);
    expect(messages(enc.encodeWeightUpdateDeadlineResponse()).map((m) => m.id)).toEqual([-67, -69, 69]);
  });
});

describe('measurementToGo (a provider\'s Measurement, checked, in Go\'s shape)', () => {
  it('converts RFC 3339 times with fractions and offsets to UTC Go times', () => {
    const go = measurementToGo({ phase: 'Running', startedAt: '2026-03-04T07:11:32.5+02:00', resumeAt: '2026-03-04T05:11:47Z', metadata: { a: 'b' }, value: '' });
    const back = new GobDecoder();
    back.feed(new GobEncoder().encodeMeasurement(go));
    expect(canonical(back.next()!)).toEqual({
      Phase: 'Running',
      StartedAt: { $time: '2026-03-04T05:11:32.5Z' },
      ResumeAt: { $time: '2026-03-04T05:11:47Z' },
      Metadata: { $map: [['a', 'b']] },
    });
  });

  it.each([
    [undefined, 'measurement: expected an object, got undefined'],
    [[], 'measurement: expected an object, got a list'],
    [{}, 'measurement.phase: missing is not an AnalysisPhase'],
    [{ phase: 'successful' }, 'measurement.phase: "successful" is not an AnalysisPhase'],
    [{ phase: 'Failed', message: 3 }, 'measurement.message: expected a string, got number'],
    [{ phase: 'Failed', value: 0.5 }, 'measurement.value: expected a string, got number'],
    [{ phase: 'Failed', startedAt: 'yesterday' }, 'measurement.startedAt: "yesterday" is not an RFC 3339 time'],
    [{ phase: 'Failed', finishedAt: '2026-02-30T00:00:00Z' }, 'measurement.finishedAt: "2026-02-30T00:00:00Z" is not an RFC 3339 time'],
    [{ phase: 'Failed', resumeAt: 1700000000 }, 'measurement.resumeAt: 1700000000 is not an RFC 3339 time'],
    [{ phase: 'Failed', metadata: { n: 1 } }, 'measurement.metadata.n: expected a string, got number'],
    [{ phase: 'Failed', metadata: ['x'] }, 'measurement.metadata: expected an object of strings'],
  ])('refuses %j: %s', (m, message) => {
    expect(() => measurementToGo(m)).toThrow(AnalysisShapeError);
    expect(() => measurementToGo(m)).toThrow(message);
  });

  it('parses the RFC 3339 forms Go writes and refuses the rest', () => {
    expect(parseRFC3339('1970-01-01T00:00:00Z', 't')).toEqual({ unixSeconds: 0, nanoseconds: 0 });
    expect(parseRFC3339('1969-12-31T23:59:59.000000001Z', 't')).toEqual({ unixSeconds: -1, nanoseconds: 1 });
    // Go's zero time (a metav1.Time that was set to time.Time{}); years below 100 are not 19xx.
    expect(parseRFC3339('0001-01-01T00:00:00Z', 't')).toEqual({ unixSeconds: -62135596800, nanoseconds: 0 });
    expect(parseRFC3339('0099-12-31T23:59:59Z', 't').unixSeconds).toBe(-59011459201);
    expect(parseRFC3339('2026-03-04T05:06:07-07:30', 't')).toEqual({ unixSeconds: Date.UTC(2026, 2, 4, 12, 36, 7) / 1000, nanoseconds: 0 });
    for (const bad of ['2026-03-04 05:06:07Z', '2026-03-04T05:06:07', '2026-13-01T00:00:00Z', '2026-03-04T24:00:00Z', '2026-03-04T05:06:07.1234567890Z']) {
      expect(() => parseRFC3339(bad, 'x.t'), bad).toThrow(`x.t: ${JSON.stringify(bad)} is not an RFC 3339 time`);
    }
  });
});
