// Listener-rule mode's public surface, for the sidecar, the Rollout deletion watch and the HTTP API's reports
// (which mode a Rollout asks for is src/core/plugin-block.ts).
export { parseListenerRuleConfig, ListenerRuleConfigError, type ListenerRuleConfig } from './config.js';
export { createListenerRuleRouter, releaseListenerRule, type ListenerRuleRouter, type ListenerRuleRouterDeps } from './router.js';
export { createBindingReader } from './k8s.js';
export { reportDrivenTargets, type ListenerRuleTargetsReport, type ListenerRuleWeightReport, type RoleTargetsReport } from './reports.js';
export type { BindingReader, TargetGroupBinding } from './bindings.js';
export type { ListenerRuleElbv2 } from './locate.js';
export { DEFAULT_OWNER_TAG_KEY, ROUTE_TAG_KEY } from './header-routes.js';
