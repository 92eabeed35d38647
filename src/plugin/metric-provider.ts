// The metric-provider contract: one method per verb of Argo Rollouts' metric-provider plugin RPC
// (utils/plugin/types/types.go `RpcMetricProvider`, metricproviders/plugin/rpc/rpc.go), taking and giving the
// AnalysisRun, Metric and Measurement in the Kubernetes JSON shape (camelCase, as `kubectl get -o json`
// shows them), like the traffic router takes the Rollout. The go-plugin layer (src/goplugin/metric-dispatch.ts)
// converts from and to Argo's Go types, so a provider never sees gob.
//
// How Argo uses the verbs (analysis/analysis.go): for each metric due a measurement it calls Run; a returned
// measurement without `finishedAt` is in flight and is handed back to Resume on later reconciles (not before
// its `resumeAt`), or to Terminate once the run is terminating. Argo takes the returned phase as it is: it
// evaluates no successCondition for plugin metrics. Error counts towards the metric's consecutiveErrorLimit
// (default 4), after which the metric, and the AnalysisRun, end in Error. GetMetadata is asked once per
// metric, when its first result is recorded; GarbageCollect after each round, with the number of
// measurements to keep.

import type { CallContext } from './call.js';

/** Argo's AnalysisPhase values (pkg/apis/rollouts/v1alpha1/analysis_types.go). */
export const ANALYSIS_PHASES = ['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive'] as const;

export type AnalysisPhase = (typeof ANALYSIS_PHASES)[number];

export function isAnalysisPhase(v: unknown): v is AnalysisPhase {
  return typeof v === 'string' && (ANALYSIS_PHASES as readonly string[]).includes(v);
}

/** Any JSON value: the plugin's configuration under `provider.plugin` arrives parsed. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One measurement of one metric. Times are RFC 3339 strings: as Kubernetes JSON shows them (whole seconds,
 * UTC) when they come from Argo; a provider may return fractional seconds (kept to the nanosecond) and any
 * zone offset.
 */
export interface Measurement {
  phase: AnalysisPhase;
  /** Shown by Argo; for phase Error, Argo prefixes it with `failed to run via plugin: ` (or resume, terminate). */
  message?: string;
  startedAt?: string;
  /** Absent: the measurement is still in flight and Argo calls Resume (or Terminate) for it. */
  finishedAt?: string;
  /** The measured value as text (Argo shows it; for plugins it decides nothing itself). */
  value?: string;
  metadata?: Record<string, string>;
  /** For a measurement in flight: Argo calls Resume no earlier than this. */
  resumeAt?: string;
}

/** `count`, `failureLimit` and the other limits are int-or-string (a number, or text such as "{{args.n}}" resolved). */
export type IntOrString = number | string;

/** The metric's provider block: `plugin` maps the plugin's name to its configuration; other providers stay loose. */
export interface MetricProviderSpec {
  plugin?: Record<string, JsonValue>;
  [provider: string]: unknown;
}

/** One metric of the AnalysisRun, with `{{args.*}}` already substituted by Argo. */
export interface Metric {
  name: string;
  /** Go duration text (`1m`); absent: a single measurement. */
  interval?: string;
  initialDelay?: string;
  count?: IntOrString;
  successCondition?: string;
  failureCondition?: string;
  failureLimit?: IntOrString;
  inconclusiveLimit?: IntOrString;
  consecutiveErrorLimit?: IntOrString;
  consecutiveSuccessLimit?: IntOrString;
  provider: MetricProviderSpec;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface AnalysisRunMetadata {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  /** A canary step's run carries `rollouts-pod-template-hash` (the canary's) and `rollout-type`. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The Rollout (or Experiment) the run belongs to. */
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

/** An argument of the run; secret values (`valueFrom.secretKeyRef`) are not resolved in it. */
export interface AnalysisRunArgument {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface MetricResult {
  name: string;
  phase?: AnalysisPhase;
  /** The most recent measurements, oldest first. */
  measurements?: Measurement[];
  message?: string;
  count?: number;
  successful?: number;
  failed?: number;
  inconclusive?: number;
  error?: number;
  consecutiveError?: number;
  consecutiveSuccess?: number;
  dryRun?: boolean;
  /** What GetMetadata returned for this metric. */
  metadata?: Record<string, string>;
}

export interface AnalysisRun {
  apiVersion?: string;
  kind?: string;
  metadata: AnalysisRunMetadata;
  spec: {
    metrics: Metric[];
    args?: AnalysisRunArgument[];
    terminate?: boolean;
    [key: string]: unknown;
  };
  status?: {
    phase?: AnalysisPhase;
    message?: string;
    startedAt?: string;
    metricResults?: MetricResult[];
    [key: string]: unknown;
  };
}

/**
 * One method per Argo metric-provider RPC verb. A method may throw: the go-plugin layer answers Run, Resume
 * and Terminate with a measurement in phase Error carrying the message, GarbageCollect and InitPlugin with
 * the message as their error, GetMetadata with `{error: message}`, the way Argo's own clients read failures.
 *
 * `call` is the RPC call the method runs for: once its signal fires (the deadline, `--rpc-timeout-seconds`,
 * or the session closing) Argo has been answered already and the result is dropped.
 */
export interface MetricProvider {
  /** Once per plugin session, before any other verb. */
  initPlugin(call?: CallContext): Promise<void>;
  /** Argo's `Type()`; it does not act on it. */
  type(): string;
  /** Starts (or takes) a measurement. Return it without `finishedAt` to have Argo call Resume for it later. */
  run(analysisRun: AnalysisRun, metric: Metric, call?: CallContext): Promise<Measurement>;
  /** Checks a measurement in flight; `measurement` is what Run (or the last Resume) returned, as Argo stored it. */
  resume(analysisRun: AnalysisRun, metric: Metric, measurement: Measurement, call?: CallContext): Promise<Measurement>;
  /** Stops a measurement in flight because the run is terminating. */
  terminate(analysisRun: AnalysisRun, metric: Metric, measurement: Measurement, call?: CallContext): Promise<Measurement>;
  /** Drops what the provider keeps for the metric's measurements beyond the newest `limit`. */
  garbageCollect(analysisRun: AnalysisRun, metric: Metric, limit: number, call?: CallContext): Promise<void>;
  /** What Argo stores as the metric result's metadata (e.g. the resolved query). */
  getMetadata(metric: Metric, call?: CallContext): Record<string, string> | Promise<Record<string, string>>;
}

/**
 * The name of the metric-provider plugin: the `metricProviderPlugins` entry in `argo-rollouts-config` and the
 * key under a metric's `provider.plugin`. Not the traffic router's `argoproj-labs/alb`: Argo copies each
 * entry's binary to plugin-bin/<name> (utils/plugin/downloader.go), so two entries of one name share one
 * file, and which `location` wins depends on the order Argo walks its lists.
 */
export const DEFAULT_METRIC_PLUGIN_NAME = 'argoproj-labs/alb-analysis';
