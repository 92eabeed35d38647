// The canary analysis's public surface (issue #19): a metric-provider plugin block judged against CloudWatch ALB
// metrics, served to Argo as a MetricProvider (provider.ts). The go-plugin RPC side (src/goplugin) calls the
// provider; the Rollout's load balancers and target groups come from its Mode (src/plugin/mode.ts albTargets).
export {
  ANALYSIS_DEFAULTS, ANALYSIS_FIELDS, CHECK_FIELDS, analysisPluginPath, parseAnalysisConfig,
  type AnalysisConfig, type CheckName, type ParseOptions,
} from './config.js';
export { parseGoDuration, formatDuration } from './duration.js';
export { queryWindow, type QueryWindow } from './window.js';
export {
  ALB_NAMESPACE, MAX_QUERIES_PER_CALL, MetricQueryError, buildMetricQueries, dimensionName, loadBalancerDimension,
  parseMetricResults, targetGroupDimension, type AnalysisTarget, type MetricQueryPlan, type ParsedMetrics,
} from './query.js';
export { judge, type CheckOutcome, type JudgeInput, type Measurement, type MeasurementPhase, type MeasurementValue } from './judge.js';
export { createCloudWatch, CloudWatchThrottledError, type CloudWatch, type CloudWatchOptions, type MetricDataAnswer } from './cloudwatch.js';
export { measure, describeCloudWatchError, type MeasureRequest } from './measure.js';
export type { TargetGroupTotals } from './totals.js';
export { analysisTargets, type AnalysisTargets } from './targets.js';
export {
  createAlbMetricProvider, configSummary, metricConfig, rolloutOwner, METRIC_PROVIDER_TYPE, VERIFY_FLAG,
  type AlbMetricProviderDeps,
} from './provider.js';
