// The metric provider's `Plugin` service: every verb with the argument structs as Argo's client encoded them
// (fixtures/metric-vectors.json), what the provider receives, and the replies for success, a provider that
// throws, a provider that answers nonsense, arguments of the wrong type and the call deadline.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GobDecoder, GobEncoder, GobInterface, type GobStruct, type GobValue, type GoMeasurement } from '../../src/goplugin/gob/index.js';
import { InvalidArgsError } from '../../src/goplugin/args.js';
import { metricProviderMethods } from '../../src/goplugin/metric-dispatch.js';
import { replyFailed, type Reply } from '../../src/goplugin/netrpc/reply.js';
import { serveNetRpc, type RpcCall } from '../../src/goplugin/netrpc/server.js';
import type { AnalysisRun, Measurement, Metric, MetricProvider } from '../../src/plugin/metric-provider.js';
import { canonical, decodeChunks, type Vector } from './gob/fixtures.js';
import { duplexPair, silentLogger, TestRpcClient } from './fixtures.js';

const vectors = JSON.parse(readFileSync(new URL('./gob/fixtures/metric-vectors.json', import.meta.url), 'utf8')) as Vector[];
const stream = vectors.find((v) => v.name === 'argo metric-provider plugin stream')!;
const calls = decodeChunks([Buffer.from(stream.hex, 'hex')]);
const body = (i: number): GobValue => calls[2 * i + 1]!;
const [RUN, RESUME, TERMINATE, GC, METADATA] = [body(2), body(3), body(4), body(5), body(6)];
const BARE_RUN = decodeChunks([Buffer.from(vectors.find((v) => v.name === 'argo metric-provider Run without an AnalysisRun')!.hex, 'hex')])[1]!;

/** 2026-03-04T05:12:30Z: the "now" of every test here. */
const NOW = Date.UTC(2026, 2, 4, 5, 12, 30);
const call = (): RpcCall => ({ signal: new AbortController().signal, deadline: NOW + 20_000, timeoutMs: 25_000 });

type Recorded = { verb: string; run?: AnalysisRun; metric?: Metric; measurement?: Measurement; limit?: number; call?: unknown };

class RecordingProvider implements MetricProvider {
  readonly seen: Recorded[] = [];
  reply: Measurement | (() => never) | unknown = { phase: 'Successful', value: '0.001', startedAt: '2026-03-04T05:12:29Z', finishedAt: '2026-03-04T05:12:30Z' };
  metadata: unknown = { resolvedQuery: 'q' };
  fail: Error | undefined;

  private answer(): Measurement {
    if (this.fail) throw this.fail;
    return this.reply as Measurement;
  }
  initPlugin = async (c?: unknown) => {
    this.seen.push({ verb: 'init', call: c });
    if (this.fail) throw this.fail;
  };
  type = () => 'ALBAnalysisPlugin';
  run = async (run: AnalysisRun, metric: Metric, c?: unknown) => {
    this.seen.push({ verb: 'run', run, metric, call: c });
    return this.answer();
  };
  resume = async (run: AnalysisRun, metric: Metric, measurement: Measurement) => {
    this.seen.push({ verb: 'resume', run, metric, measurement });
    return this.answer();
  };
  terminate = async (run: AnalysisRun, metric: Metric, measurement: Measurement) => {
    this.seen.push({ verb: 'terminate', run, metric, measurement });
    return this.answer();
  };
  garbageCollect = async (run: AnalysisRun, metric: Metric, limit: number) => {
    this.seen.push({ verb: 'gc', run, metric, limit });
    if (this.fail) throw this.fail;
  };
  getMetadata = (metric: Metric) => {
    this.seen.push({ verb: 'metadata', metric });
    if (this.fail) throw this.fail;
    return this.metadata as Record<string, string>;
  };
}

/** A Measurement reply as Go reads it: the Go shape through our encoder and decoder, times as text. */
function asGo(reply: Reply): unknown {
  expect(reply.kind).toBe('measurement');
  const dec = new GobDecoder();
  dec.feed(new GobEncoder().encodeMeasurement((reply as { value: GoMeasurement }).value));
  return canonical(dec.next()!);
}

function setup(provider = new RecordingProvider()) {
  const methods = metricProviderMethods(provider, () => NOW);
  // As the net/rpc server runs a method: a synchronous throw is a rejected call too.
  const invoke = (method: string, b: GobValue, c: RpcCall | undefined = call()) => Promise.resolve().then(() => methods.get(`Plugin.${method}`)!.handle(b, c));
  return { provider, methods, invoke };
}

describe('metric provider verbs', () => {
  it('serves exactly the methods of Argo\'s MetricsRPCServer', () => {
    expect([...setup().methods.keys()].sort()).toEqual(
      ['Plugin.GarbageCollect', 'Plugin.GetMetadata', 'Plugin.InitPlugin', 'Plugin.Resume', 'Plugin.Run', 'Plugin.Terminate', 'Plugin.Type'].sort(),
    );
  });

  it('InitPlugin and Type (their `new(any)` argument is ignored, as by the Go stub)', async () => {
    const { provider, invoke } = setup();
    const c = call();
    expect(await invoke('InitPlugin', null, c)).toEqual({ kind: 'rpcError', errorString: '' });
    expect(provider.seen[0]!.call).toBe(c);
    expect(await invoke('Type', null)).toEqual({ kind: 'string', value: 'ALBAnalysisPlugin' });
    provider.fail = new Error('no credentials for CloudWatch');
    expect(await invoke('InitPlugin', null)).toEqual({ kind: 'rpcError', errorString: 'no credentials for CloudWatch' });
  });

  it('Run: the provider gets the AnalysisRun and Metric in JSON shape and the call; its measurement goes back in Go shape', async () => {
    const { provider, invoke } = setup();
    const c = call();
    const reply = await invoke('Run', RUN, c);
    const seen = provider.seen[0]!;
    expect(seen.verb).toBe('run');
    expect(seen.call).toBe(c);
    expect(seen.run!.metadata.ownerReferences![0]!.name).toBe('checkout');
    expect(seen.run!.metadata.labels!['rollouts-pod-template-hash']).toBe('7d9f8c6b5');
    expect(seen.metric!.provider.plugin!['argoproj-labs/alb-analysis']).toMatchObject({ query: 'targetErrorRate', threshold: 0.01 });
    expect(asGo(reply)).toEqual({ Phase: 'Successful', Value: '0.001', StartedAt: { $time: '2026-03-04T05:12:29Z' }, FinishedAt: { $time: '2026-03-04T05:12:30Z' } });
    expect(replyFailed(reply)).toBe(false);
  });

  it('Resume and Terminate: the provider gets the measurement Argo stored, checked', async () => {
    const { provider, invoke } = setup();
    await invoke('Resume', RESUME);
    await invoke('Terminate', TERMINATE);
    expect(provider.seen.map((s) => [s.verb, s.measurement!.phase, s.metric!.name])).toEqual([
      ['resume', 'Running', 'alb-5xx-rate'],
      ['terminate', 'Successful', 'alb-5xx-rate'],
    ]);
    expect(provider.seen[0]!.measurement).toEqual({ phase: 'Running', startedAt: '2026-03-04T05:11:32Z', resumeAt: '2026-03-04T05:11:47Z', metadata: { queryId: 'q-0002' } });
  });

  it('GarbageCollect passes the limit; GetMetadata the Metric alone', async () => {
    const { provider, invoke } = setup();
    expect(await invoke('GarbageCollect', GC)).toEqual({ kind: 'rpcError', errorString: '' });
    expect(provider.seen[0]).toMatchObject({ verb: 'gc', limit: 10 });
    expect(provider.seen[0]!.run!.metadata.name).toBe('checkout-7d9f8c6b5-17-2');
    expect(await invoke('GetMetadata', METADATA)).toEqual({ kind: 'stringMap', value: { resolvedQuery: 'q' } });
    expect(provider.seen[1]!.metric!.name).toBe('alb-5xx-rate');
  });
});

describe('failures, answered as Argo\'s client reads them', () => {
  it('a Run that throws: phase Error saying why, started at the call\'s start, finished now', async () => {
    const { provider, invoke } = setup();
    provider.fail = new Error('CloudWatch GetMetricData: AccessDenied');
    const reply = await invoke('Run', RUN);
    expect(asGo(reply)).toEqual({
      Phase: 'Error',
      Message: 'CloudWatch GetMetricData: AccessDenied',
      StartedAt: { $time: '2026-03-04T05:12:25Z' },
      FinishedAt: { $time: '2026-03-04T05:12:30Z' },
    });
    expect(replyFailed(reply)).toBe(true);
  });

  it('a programming error names its kind; an empty message is never sent as one', async () => {
    const { provider, invoke } = setup();
    provider.fail = new TypeError("Cannot read properties of undefined (reading 'threshold')");
    expect(asGo(await invoke('Run', RUN))).toMatchObject({ Message: "TypeError: Cannot read properties of undefined (reading 'threshold')" });
    provider.fail = new Error('');
    expect(asGo(await invoke('Run', RUN))).toMatchObject({ Phase: 'Error', Message: 'the metric provider failed without a message' });
  });

  it('a Resume or Terminate that throws keeps the measurement Argo sent (like MarkMeasurementError)', async () => {
    const { provider, invoke } = setup();
    provider.fail = new Error('query q-0002 expired');
    expect(asGo(await invoke('Resume', RESUME))).toEqual({
      Phase: 'Error',
      Message: 'query q-0002 expired',
      StartedAt: { $time: '2026-03-04T05:11:32Z' },
      ResumeAt: { $time: '2026-03-04T05:11:47Z' },
      Metadata: { $map: [['queryId', 'q-0002']] },
      FinishedAt: { $time: '2026-03-04T05:12:30Z' },
    });
    // A measurement that had finished keeps its finishedAt.
    expect(asGo(await invoke('Terminate', TERMINATE))).toMatchObject({ Phase: 'Error', FinishedAt: { $time: '2026-03-04T05:11:33Z' }, StartedAt: { $time: '2026-03-04T05:11:32.123456789Z' } });
  });

  it.each([
    [{ phase: 'Done' }, 'the metric provider returned an unusable measurement: measurement.phase: "Done" is not an AnalysisPhase'],
    [undefined, 'the metric provider returned an unusable measurement: measurement: expected an object, got undefined'],
    [{ phase: 'Successful', finishedAt: 'now' }, 'the metric provider returned an unusable measurement: measurement.finishedAt: "now" is not an RFC 3339 time'],
    [{ phase: 'Successful', metadata: { rate: 0.2 } }, 'the metric provider returned an unusable measurement: measurement.metadata.rate: expected a string, got number'],
  ])('a measurement Go could not take (%j) becomes phase Error saying what is wrong', async (bad, message) => {
    const { provider, invoke } = setup();
    provider.reply = bad;
    const got = asGo(await invoke('Run', RUN)) as { Phase: string; Message: string };
    expect(got.Phase).toBe('Error');
    expect(got.Message.startsWith(message)).toBe(true);
  });

  it('arguments Argo could not have sent: Run without an AnalysisRun, a stored measurement of an unknown phase', async () => {
    const { provider, invoke } = setup();
    expect(asGo(await invoke('Run', BARE_RUN))).toMatchObject({ Phase: 'Error', Message: 'AnalysisRun: Argo sent none (a nil *AnalysisRun)' });
    const enc = new GobEncoder();
    const dec = new GobDecoder();
    dec.feed(enc.encodeMeasurement({ Phase: 'Paused' }));
    const args = RESUME as GobInterface;
    const odd = new GobInterface(args.name, Object.assign(Object.create(Object.getPrototypeOf(args.value) as object) as GobStruct, args.value as GobStruct, { Measurement: dec.next()! }));
    expect(asGo(await invoke('Resume', odd))).toMatchObject({ Phase: 'Error', Message: expect.stringMatching(/^measurement.phase: "Paused" is not an AnalysisPhase/) });
    expect(provider.seen).toEqual([]);
  });

  it('GarbageCollect and GetMetadata failures: the RpcError, the `error` entry', async () => {
    const { provider, invoke } = setup();
    provider.fail = new Error('throttled');
    expect(await invoke('GarbageCollect', GC)).toEqual({ kind: 'rpcError', errorString: 'throttled' });
    const md = await invoke('GetMetadata', METADATA);
    expect(md).toEqual({ kind: 'stringMap', value: { error: 'throttled' } });
    expect(replyFailed(md)).toBe(true);
    provider.fail = undefined;
    provider.metadata = { query: 7 };
    expect(await invoke('GetMetadata', METADATA)).toEqual({ kind: 'stringMap', value: { error: 'the metric provider returned unusable metadata: metadata.query: expected a string, got number' } });
    provider.metadata = 'q';
    expect(await invoke('GetMetadata', METADATA)).toEqual({ kind: 'stringMap', value: { error: 'the metric provider returned unusable metadata: expected an object of strings' } });
  });

  it.each([
    ['Run', GC, 'invalid args: expected RunArgs, got interface "GarbageCollectArgs"'],
    ['Resume', RUN, 'invalid args: expected TerminateAndResumeArgs, got interface "RunArgs"'],
    ['Terminate', null, 'invalid args: expected TerminateAndResumeArgs, got nil'],
    ['GarbageCollect', 'x', 'invalid args: expected GarbageCollectArgs, got string'],
    ['GetMetadata', RUN, 'invalid args: expected GetMetadataArgs, got interface "RunArgs"'],
  ])('%s with the wrong argument type is a net/rpc error, as from Argo\'s Go stub', async (method, b, message) => {
    const { provider, invoke } = setup();
    await expect(invoke(method, b)).rejects.toThrow(new InvalidArgsError(message));
    expect(provider.seen).toEqual([]);
  });
});

describe('the call deadline', () => {
  it('each verb has a timeout reply of the type Argo decodes, Run and Resume keeping their start', () => {
    const { methods } = setup();
    const msg = 'Plugin.Run did not finish within 25s';
    const c = call();
    expect(asGo(methods.get('Plugin.Run')!.onTimeout!(msg, RUN, c))).toEqual({
      Phase: 'Error',
      Message: msg,
      StartedAt: { $time: '2026-03-04T05:12:25Z' },
      FinishedAt: { $time: '2026-03-04T05:12:30Z' },
    });
    expect(asGo(methods.get('Plugin.Resume')!.onTimeout!(msg, RESUME, c))).toMatchObject({ Phase: 'Error', StartedAt: { $time: '2026-03-04T05:11:32Z' } });
    expect(asGo(methods.get('Plugin.Terminate')!.onTimeout!(msg, 'garbage', c))).toEqual({ Phase: 'Error', Message: msg, FinishedAt: { $time: '2026-03-04T05:12:30Z' } });
    expect(methods.get('Plugin.GarbageCollect')!.onTimeout!(msg)).toEqual({ kind: 'rpcError', errorString: msg });
    expect(methods.get('Plugin.InitPlugin')!.onTimeout!(msg)).toEqual({ kind: 'rpcError', errorString: msg });
    expect(methods.get('Plugin.GetMetadata')!.onTimeout!(msg)).toEqual({ kind: 'stringMap', value: { error: msg } });
  });

  it('a provider that never answers: the net/rpc server answers Run at the deadline with phase Error naming the setting', async () => {
    const provider = new RecordingProvider();
    let signal: AbortSignal | undefined;
    provider.run = (_r, _m, c) => {
      signal = (c as RpcCall).signal;
      return new Promise<Measurement>(() => {});
    };
    const [clientSide, serverSide] = duplexPair();
    const server = serveNetRpc(serverSide, { methods: metricProviderMethods(provider), callTimeoutMs: 150, logger: silentLogger, onStop: () => {} });
    const client = new TestRpcClient(clientSide);
    // Argo's whole call stream: only Run hangs, everything else answers at once.
    client.writeRaw(Buffer.from(stream.hex, 'hex'));
    const replies = await client.waitForReplies(7);
    const run = replies.find((r) => (r.header as { Seq?: number }).Seq === 2)!;
    expect(run.header).toMatchObject({ ServiceMethod: 'Plugin.Run' });
    expect(run.header.Error).toBeUndefined();
    expect(run.body).toMatchObject({ Phase: 'Error', Message: expect.stringMatching(/^Plugin.Run did not finish within 0.15s \(the sidecar's --rpc-timeout-seconds\)/) });
    // Answered: the provider's work is told to stop.
    expect(signal?.aborted).toBe(true);
    expect(replies.filter((r) => r !== run).map((r) => r.header.Error)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    server.stop();
  });
});
