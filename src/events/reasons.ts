// Event reasons of this plugin. Each starts with `ALBPlugin` so that `kubectl describe rollout` and event
// filters tell the plugin apart from Argo's built-in ALB router (PatchingALBIngress, TargetGroupVerified, ...).

export const REASON_INGRESS_PATCHED = 'ALBPluginIngressPatched';
export const REASON_WEIGHT_VERIFIED = 'ALBPluginWeightVerified';
export const REASON_WEIGHT_UNVERIFIED = 'ALBPluginWeightUnverified';
export const REASON_TARGETS_VERIFY_ERROR = 'ALBPluginTargetGroupVerifyError';
export const REASON_WEIGHT_VERIFY_ERROR = 'ALBPluginWeightVerifyError';
export const REASON_LOAD_BALANCER_NOT_FOUND = 'ALBPluginLoadBalancerNotFound';
