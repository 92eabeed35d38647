// The metric provider this build serves until the ALB (CloudWatch) analysis exists: Argo can start the
// metric-provider plugin and call every verb, and each measurement comes back in phase Error saying the
// analysis is not available, so an AnalysisTemplate naming the plugin fails loudly instead of passing.
// Replace createUnconfiguredMetricProvider in src/sidecar.ts with the real provider.

import type { Measurement, Metric, MetricProvider } from './metric-provider.js';

/** What Argo's Type() gets from this plugin's metric provider. */
export const METRIC_PROVIDER_TYPE = 'ALBAnalysisPlugin';

export function createUnconfiguredMetricProvider(pluginName: string, now: () => Date = () => new Date()): MetricProvider {
  const notConfigured = (metric: Metric): Measurement => {
    const at = now().toISOString();
    return {
      phase: 'Error',
      message:
        `ALB analysis is not configured in this build of the sidecar: metric "${metric.name}" names the plugin ` +
        `"${pluginName}", which has no measurements to take yet; remove the metric or use another provider`,
      startedAt: at,
      finishedAt: at,
    };
  };
  return {
    async initPlugin() {},
    type: () => METRIC_PROVIDER_TYPE,
    run: async (_run, metric) => notConfigured(metric),
    // Nothing is ever in flight: a measurement handed back is finished as unavailable too.
    resume: async (_run, metric) => notConfigured(metric),
    terminate: async (_run, metric) => notConfigured(metric),
    async garbageCollect() {},
    getMetadata: () => ({}),
  };
}
