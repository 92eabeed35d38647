// The `Plugin` service of Argo's metric-provider RPC (metricproviders/plugin/rpc/rpc.go, `MetricsRPCServer`),
// dispatched to a MetricProvider. Arguments arrive as a gob interface holding one of the argument structs
// Argo registers (RunArgs, TerminateAndResumeArgs, GarbageCollectArgs, GetMetadataArgs); the AnalysisRun,
// Metric and Measurement inside are converted to the Kubernetes JSON shape here (analysis-json.ts).
//
// Failures are answered the way Argo's client reads them, never as a crash or a hung call:
//   * Run, Resume, Terminate: a Measurement in phase Error whose message says why (Argo's client prefixes
//     "failed to run via plugin: "); like Argo's MarkMeasurementError (utils/metric) it keeps what the
//     measurement had and sets finishedAt when it had none; a Run error starts at the call's start;
//   * InitPlugin, GarbageCollect: the message in RpcError.ErrorString;
//   * GetMetadata: `{error: message}` (the client prefixes "failed to get metadata via plugin: ");
//   * an argument struct of the wrong type: a net/rpc error, as Argo's Go stub answers (`invalid args`).
// At the deadline (`--rpc-timeout-seconds`) the same replies carry the timeout message.

import { goTimeBinary, GobInterface, isGobStruct, type GobValue, type GoMeasurement } from './gob/index.js';
import {
  AnalysisShapeError,
  goAnalysisRunToJson,
  goMeasurementBase,
  goMeasurementToJson,
  goMetricToJson,
  measurementToGo,
  stringRecord,
  type MeasurementBase,
} from './analysis-json.js';
import { args, InvalidArgsError } from './args.js';
import type { Reply } from './netrpc/reply.js';
import type { MethodTable, RpcCall, RpcMethod } from './netrpc/server.js';
import type { Measurement, MetricProvider } from '../plugin/metric-provider.js';

/** The names Argo registers the metric-provider argument structs under (`gob.RegisterName`, rpc.go). */
export const MetricArgNames = {
  run: 'RunArgs',
  terminateAndResume: 'TerminateAndResumeArgs',
  garbageCollect: 'GarbageCollectArgs',
  getMetadata: 'GetMetadataArgs',
} as const;

function message(err: unknown, fallback: string): string {
  const text = err instanceof Error ? err.message : String(err);
  return text === '' ? fallback : text;
}

/** Why a provider's reply could not be sent, or why the provider failed. */
function failure(err: unknown): string {
  if (err instanceof AnalysisShapeError) return message(err, 'invalid data');
  // A programming error (TypeError, RangeError, …) says little without its kind.
  const text = message(err, 'the metric provider failed without a message');
  return err instanceof Error && err.name !== 'Error' && !(err instanceof InvalidArgsError) ? `${err.name}: ${text}` : text;
}

function goTime(ms: number): Uint8Array {
  return goTimeBinary(Math.floor(ms / 1000), (ms % 1000) * 1_000_000);
}

/** Argo's MarkMeasurementError: phase Error, the message, finishedAt set if the measurement had none. */
function errorMeasurement(base: MeasurementBase, text: string, now: number): Reply {
  const value: GoMeasurement = { ...base, Phase: 'Error', Message: text, FinishedAt: base.FinishedAt ?? goTime(now) };
  return { kind: 'measurement', value };
}

/** When the call began: its deadline minus its timeout (the server sets both at arrival). */
function callStart(call: RpcCall | undefined, now: number): number {
  return call ? call.deadline - call.timeoutMs : now;
}

/** The provider's measurement, checked and converted; an Error measurement when it failed or is not one. */
async function measurementReply(base: MeasurementBase, work: () => Promise<Measurement>, now: () => number): Promise<Reply> {
  let returned: unknown;
  try {
    returned = await work();
  } catch (err) {
    // Arguments of the wrong type stay net/rpc errors, as with Argo's Go stub.
    if (err instanceof InvalidArgsError) throw err;
    return errorMeasurement(base, failure(err), now());
  }
  try {
    return { kind: 'measurement', value: measurementToGo(returned) };
  } catch (err) {
    return errorMeasurement(base, `the metric provider returned an unusable measurement: ${failure(err)}`, now());
  }
}

/** A method answering RpcError: "" on success, the message on failure or timeout. */
function rpcErrorMethod(run: (body: GobValue, call: RpcCall | undefined) => Promise<void>): RpcMethod {
  return {
    handle: async (body, call) => {
      try {
        await run(body, call);
        return { kind: 'rpcError', errorString: '' };
      } catch (err) {
        if (err instanceof InvalidArgsError) throw err;
        return { kind: 'rpcError', errorString: failure(err) };
      }
    },
    onTimeout: (msg) => ({ kind: 'rpcError', errorString: msg }),
  };
}

/** Limit is a Go `int`; absent (gob leaves out 0) means keep none. */
function limitOf(v: GobValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return 0;
}

export function metricProviderMethods(provider: MetricProvider, now: () => number = Date.now): MethodTable {
  const methods = new Map<string, RpcMethod>();

  methods.set('Plugin.InitPlugin', rpcErrorMethod((_body, call) => provider.initPlugin(call)));

  methods.set('Plugin.Type', { handle: () => ({ kind: 'string', value: provider.type() }) });

  methods.set('Plugin.Run', {
    handle: (body, call) => {
      const a = args(body, MetricArgNames.run);
      const base: MeasurementBase = { StartedAt: goTime(callStart(call, now())) };
      return measurementReply(base, () => provider.run(goAnalysisRunToJson(a.AnalysisRun), goMetricToJson(a.Metric), call), now);
    },
    onTimeout: (msg, _body, call) => errorMeasurement({ StartedAt: goTime(callStart(call, now())) }, msg, now()),
  });

  // Resume and Terminate share Argo's TerminateAndResumeArgs and their failure replies keep the measurement's start.
  const inFlight = (verb: 'resume' | 'terminate'): RpcMethod => ({
    handle: (body, call) => {
      const a = args(body, MetricArgNames.terminateAndResume);
      return measurementReply(
        goMeasurementBase(a.Measurement),
        () => provider[verb](goAnalysisRunToJson(a.AnalysisRun), goMetricToJson(a.Metric), goMeasurementToJson(a.Measurement), call),
        now,
      );
    },
    onTimeout: (msg, body) => {
      const measurement = body instanceof GobInterface && isGobStruct(body.value) ? body.value.Measurement : undefined;
      return errorMeasurement(goMeasurementBase(measurement), msg, now());
    },
  });
  methods.set('Plugin.Resume', inFlight('resume'));
  methods.set('Plugin.Terminate', inFlight('terminate'));

  methods.set(
    'Plugin.GarbageCollect',
    rpcErrorMethod(async (body, call) => {
      const a = args(body, MetricArgNames.garbageCollect);
      await provider.garbageCollect(goAnalysisRunToJson(a.AnalysisRun), goMetricToJson(a.Metric), limitOf(a.Limit), call);
    }),
  );

  methods.set('Plugin.GetMetadata', {
    handle: async (body, call) => {
      const a = args(body, MetricArgNames.getMetadata);
      let md: unknown;
      try {
        md = await provider.getMetadata(goMetricToJson(a.Metric), call);
      } catch (err) {
        return { kind: 'stringMap', value: { error: failure(err) } };
      }
      if (md === null || typeof md !== 'object' || Array.isArray(md)) {
        return { kind: 'stringMap', value: { error: 'the metric provider returned unusable metadata: expected an object of strings' } };
      }
      try {
        return { kind: 'stringMap', value: stringRecord(md as Record<string, unknown>, 'metadata') };
      } catch (err) {
        return { kind: 'stringMap', value: { error: `the metric provider returned unusable metadata: ${failure(err)}` } };
      }
    },
    onTimeout: (msg) => ({ kind: 'stringMap', value: { error: msg } }),
  });

  return methods;
}
