// Listener-rule mode's public surface, for the dispatch (Ingress mode vs listener-rule mode by config),
// the Rollout deletion watch and the HTTP API's reports.
export { parseListenerRuleConfig, ListenerRuleConfigError, type ListenerRuleConfig } from './config.js';
export {
  createListenerRuleRouter,
  releaseListenerRule,
  type ListenerRuleRouter,
  type ListenerRuleRouterDeps,
  type ListenerRuleWeightReport,
} from './router.js';
export { createBindingReader } from './k8s.js';
export { reportDrivenTargets, type ListenerRuleTargetsReport, type RoleTargetsReport } from './targets.js';
export type { BindingReader, TargetGroupBinding } from './bindings.js';
export type { ListenerRuleElbv2 } from './locate.js';
export { DEFAULT_OWNER_TAG_KEY, ROUTE_TAG_KEY } from './header-routes.js';
