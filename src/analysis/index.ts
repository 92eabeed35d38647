// The canary analysis's public surface (issue #19): a metric-provider plugin block judged against CloudWatch ALB
// metrics. The go-plugin RPC side and the discovery of a Rollout's load balancers and target groups live
// elsewhere and call parseAnalysisConfig once per metric and measure once per measurement.
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
