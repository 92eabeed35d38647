// The ALB metric provider (issue #19): Argo's metric-provider verbs (src/plugin/metric-provider.ts) over the
// analysis core. One Run is one measurement, finished when it returns:
//
//   metric block ─ parseAnalysisConfig ─┐
//   AnalysisRun owner ─ the Rollout (API server) ─ its Mode ─ albTargets (ELBv2, as verification finds them)
//                                        └─ measure(): one GetMetricData, judged ─ Measurement
//
// Nothing is kept between calls (no state to collect), and nothing is left in flight: Resume and Terminate
// only close a measurement they are handed. Every failure is a measurement in phase Error saying why and
// what to fix (Argo counts those against consecutiveErrorLimit); only the call's own abort is thrown, and
// the go-plugin layer has answered Argo by then.
//
// The Mode comes from the mode table through the contract types (src/plugin), never from a mode folder.

import type { Rollout } from '../core/rollout.js';
import { currentWeights } from '../core/weights.js';
import type { Logger } from '../logger.js';
import { abortReason, stepSignal, type CallContext } from '../plugin/call.js';
import type { AnalysisRun, Measurement, Metric, MetricProvider, OwnerReference } from '../plugin/metric-provider.js';
import type { Mode } from '../plugin/mode.js';
import type { CloudWatch } from './cloudwatch.js';
import { analysisPluginPath, parseAnalysisConfig, type AnalysisConfig } from './config.js';
import { formatDuration } from './duration.js';
import { measure } from './measure.js';
import { analysisTargets } from './targets.js';

/** What Argo's Type() gets from this plugin's metric provider (the traffic router's is `ALBPlugin`). */
export const METRIC_PROVIDER_TYPE = 'ALBAnalysisPlugin';

/** The flag that turns on the ELBv2 discovery the analysis finds its load balancers and target groups with. */
export const VERIFY_FLAG = '--aws-verify-target-group';

export interface AlbMetricProviderDeps {
  /** The key under a metric's `provider.plugin` (--metric-plugin-name). */
  metricPluginName: string;
  /** The mode table (src/plugin/mode-table.ts): `pluginName` is the traffic router's, `of` a Rollout's mode. */
  modes: { readonly pluginName: string; of(rollout: Rollout): Mode | undefined };
  /** The API server's copy of a Rollout; undefined when it does not exist; throws when it cannot be read. */
  getRollout(namespace: string, name: string, signal: AbortSignal): Promise<Rollout | undefined>;
  /** The analysis's own CloudWatch client (createCloudWatch), built once. */
  cloudwatch: Pick<CloudWatch, 'getMetricData'>;
  /** --aws-verify-target-group: without it the modes find no load balancers (albTargets answers []). */
  verificationEnabled: boolean;
  now?: () => Date;
  log?: Pick<Logger, 'debug'>;
}

/** What one measurement found before it was judged: for the metadata and messages. */
interface Found {
  rollout?: string;
  mode?: string;
  canaryWeight?: number;
}

/** A reason that ends the measurement before CloudWatch is asked. */
class Stop extends Error {
  constructor(
    readonly phase: 'Error' | 'Inconclusive',
    message: string,
  ) {
    super(message);
  }
}

const text = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The promise, or the signal's reason once it fires first (for a getter that takes no signal to heart). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error(abortReason(signal)));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(abortReason(signal)));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** The Rollout the AnalysisRun belongs to: its ownerReference of kind Rollout in argoproj.io. */
export function rolloutOwner(run: AnalysisRun): OwnerReference | undefined {
  const owners = (run.metadata.ownerReferences ?? []).filter((o) => o.kind === 'Rollout' && /^argoproj\.io\//.test(o.apiVersion ?? ''));
  return owners.find((o) => o.controller) ?? owners[0];
}

/** The metric's configuration read as parseAnalysisConfig reads it (throws a ConfigError naming the field). */
export function metricConfig(metric: Metric, pluginName: string): AnalysisConfig {
  return parseAnalysisConfig(metric.provider?.plugin?.[pluginName], { path: analysisPluginPath(pluginName, metric.name) });
}

/** GetMetadata's summary of a configuration: every field as the user would write it, defaults included. */
export function configSummary(config: AnalysisConfig): Record<string, string> {
  const out: Record<string, string> = {
    lookback: formatDuration(config.lookbackSeconds),
    settleDelay: formatDuration(config.settleDelaySeconds),
    minRequests: String(config.minRequests),
  };
  for (const key of ['maxErrorRate', 'maxErrorRateIncrease', 'maxLatencySeconds', 'maxLatencyIncrease', 'maxElb5xxCount'] as const) {
    const v = config[key];
    if (v !== undefined) out[key] = String(v);
  }
  return out;
}

const list = (xs: readonly string[]): string => [...new Set(xs)].join(',');

export function createAlbMetricProvider(deps: AlbMetricProviderDeps): MetricProvider {
  const now = deps.now ?? (() => new Date());
  const routerPlugin = deps.modes.pluginName;

  /** Everything before CloudWatch: the config, the Rollout, its mode and weight, its load balancers. */
  async function prepare(run: AnalysisRun, metric: Metric, signal: AbortSignal, found: Found) {
    let config: AnalysisConfig;
    try {
      config = metricConfig(metric, deps.metricPluginName);
    } catch (err) {
      throw new Stop('Error', text(err));
    }

    const owner = rolloutOwner(run);
    const namespace = run.metadata.namespace;
    if (!owner) {
      const kinds = (run.metadata.ownerReferences ?? []).map((o) => o.kind).join(', ');
      throw new Stop(
        'Error',
        `AnalysisRun ${namespace ?? ''}/${run.metadata.name} has no Rollout owner (ownerReferences: ${kinds || 'none'}): ` +
          'ALB analysis measures the Rollout the run belongs to, so use it in a Rollout\'s canary steps or background analysis ' +
          '(not in an Experiment or a hand-made AnalysisRun)',
      );
    }
    if (!namespace) throw new Stop('Error', `AnalysisRun ${run.metadata.name} has no namespace: cannot find its Rollout ${owner.name}`);
    const ref = `${namespace}/${owner.name}`;
    found.rollout = ref;

    let rollout: Rollout | undefined;
    try {
      rollout = await untilAborted(deps.getRollout(namespace, owner.name, signal), signal);
    } catch (err) {
      // The API getter's own errors already say `reading Rollout <ns>/<name>: …`.
      const why = text(err);
      throw new Stop('Error', why.startsWith(`reading Rollout ${ref}`) ? why : `reading Rollout ${ref}: ${why}`);
    }
    if (!rollout) throw new Stop('Error', `Rollout ${ref}, the owner of AnalysisRun ${run.metadata.name}, does not exist`);
    if (owner.uid && rollout.metadata.uid && owner.uid !== rollout.metadata.uid) {
      throw new Stop('Error', `Rollout ${ref} was replaced (uid ${rollout.metadata.uid}, the AnalysisRun's owner is ${owner.uid}): not measuring another Rollout`);
    }

    const mode = deps.modes.of(rollout);
    if (!mode) {
      throw new Stop(
        'Error',
        `Rollout ${ref} does not use the traffic-router plugin ${JSON.stringify(routerPlugin)} ` +
          `(spec.strategy.canary.trafficRouting.plugins[${JSON.stringify(routerPlugin)}]): ALB analysis finds the load balancers ` +
          'and target groups through it',
      );
    }
    found.mode = mode.name;

    if (!deps.verificationEnabled) {
      throw new Stop(
        'Error',
        `ALB analysis needs the sidecar's ${VERIFY_FLAG} (ALB_PLUGIN_AWS_VERIFY_TARGET_GROUP=true): Rollout ${ref}'s load balancers ` +
          'and target groups are found the way weight verification finds them, through ELBv2, which is off',
      );
    }

    // The weight Argo last set (status.canary.weights); absent: not known, the judge then goes by requests alone.
    const weights = rollout.status?.canary?.weights;
    const canaryWeight = weights ? currentWeights(rollout).desired : undefined;
    if (canaryWeight !== undefined) found.canaryWeight = canaryWeight;
    if (canaryWeight !== undefined && !(canaryWeight > 0)) {
      throw new Stop('Inconclusive', `canary weight of Rollout ${ref} is ${canaryWeight}: no traffic reaches the canary, so there is nothing to judge`);
    }

    let albs;
    try {
      // A mode may not hand the signal on to every request; the measurement ends with the budget regardless.
      albs = await untilAborted(mode.albTargets(rollout, signal), signal);
    } catch (err) {
      throw new Stop('Error', `finding the load balancers and target groups of Rollout ${ref} (${mode.name} mode): ${signal.aborted ? abortReason(signal) : text(err)}`);
    }
    const { targets, skipped } = analysisTargets(albs);
    if (targets.length === 0) {
      const why = skipped.length > 0 ? skipped.join('; ') : 'no load balancer found for its current weights';
      throw new Stop(
        'Inconclusive',
        `Rollout ${ref} (${mode.name} mode) has no load balancer with a canary and a stable target group yet (${why}); ` +
          'the AWS Load Balancer Controller may still be building it',
      );
    }
    return { config, targets, skipped, canaryWeight };
  }

  function finished(m: Omit<Measurement, 'startedAt' | 'finishedAt'>, started: Date): Measurement {
    return { ...m, startedAt: started.toISOString(), finishedAt: now().toISOString() };
  }

  function metadataOf(found: Found): Record<string, string> {
    return {
      ...(found.rollout ? { rollout: found.rollout } : {}),
      ...(found.mode ? { mode: found.mode } : {}),
      ...(found.canaryWeight !== undefined ? { canaryWeight: String(found.canaryWeight) } : {}),
    };
  }

  return {
    async initPlugin() {},

    type: () => METRIC_PROVIDER_TYPE,

    async run(analysisRun, metric, call?: CallContext) {
      const started = now();
      // Every step ends before the call's deadline (minus the time to answer), with a message that says so.
      const signal = call ? stepSignal(call) : new AbortController().signal;
      const found: Found = {};
      try {
        const { config, targets, skipped, canaryWeight } = await prepare(analysisRun, metric, signal, found);
        let judged;
        try {
          judged = await measure(
            { targets, config, now: started, signal, ...(canaryWeight !== undefined ? { canaryWeight } : {}) },
            deps.cloudwatch,
          );
        } catch (err) {
          if (call?.signal.aborted) throw err;
          // measure() throws only on the signal: here the step budget ran out before the call's deadline.
          throw new Stop('Error', `CloudWatch GetMetricData: ${signal.aborted ? abortReason(signal) : text(err)}`);
        }
        const note = skipped.length > 0 ? `; not measured: ${skipped.join('; ')}` : '';
        const measurement = finished(
          {
            phase: judged.phase,
            message: judged.message + note,
            ...(judged.value ? { value: JSON.stringify(judged.value) } : {}),
            metadata: {
              ...metadataOf(found),
              loadBalancers: list(targets.map((t) => t.loadBalancer)),
              canaryTargetGroups: list(targets.map((t) => t.canaryTargetGroup)),
              stableTargetGroups: list(targets.map((t) => t.stableTargetGroup)),
            },
          },
          started,
        );
        deps.log?.debug({ rollout: found.rollout, metric: metric.name, phase: measurement.phase, message: measurement.message }, 'ALB analysis measurement');
        return measurement;
      } catch (err) {
        if (call?.signal.aborted) throw err;
        const stop = err instanceof Stop ? err : new Stop('Error', `ALB analysis failed: ${text(err)}`);
        deps.log?.debug({ rollout: found.rollout, metric: metric.name, phase: stop.phase, message: stop.message }, 'ALB analysis measurement');
        return finished({ phase: stop.phase, message: stop.message, metadata: metadataOf(found) }, started);
      }
    },

    // Run never leaves a measurement in flight, so Resume is handed one only if Argo stored another provider's
    // or a hand-edited one: a finished one goes back as it is; an unfinished one is closed as Error, since
    // nothing here is measuring it.
    async resume(_run, _metric, measurement) {
      if (measurement.finishedAt) return measurement;
      if (measurement.phase === 'Running' || measurement.phase === 'Pending') {
        return {
          ...measurement,
          phase: 'Error',
          message: 'this measurement is not in flight here: the ALB analysis finishes every measurement in Run; the next Run measures again',
          finishedAt: now().toISOString(),
        };
      }
      return { ...measurement, finishedAt: now().toISOString() };
    },

    // As Argo's own providers terminate (metricproviders/job): the measurement is finished, one still running
    // as Successful (the run is being stopped, not failed), any other phase as it is.
    async terminate(_run, _metric, measurement) {
      const phase = measurement.phase === 'Running' || measurement.phase === 'Pending' ? 'Successful' : measurement.phase;
      return { ...measurement, phase, finishedAt: measurement.finishedAt ?? now().toISOString() };
    },

    // Nothing is kept per measurement.
    async garbageCollect() {},

    getMetadata(metric) {
      try {
        return configSummary(metricConfig(metric, deps.metricPluginName));
      } catch {
        return {};
      }
    },
  };
}
