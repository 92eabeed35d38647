// What an ALB accepts, in one place. Every mode writes to an ALB (through the LBC's Ingress annotations,
// through ELBv2 directly), so every mode checks against these.

/** Weight of one target group in a forward action: 0..999. */
export const MAX_ALB_WEIGHT = 999;
/** `trafficRouting.maxTrafficWeight` when absent (Argo's default). */
export const DEFAULT_MAX_WEIGHT = 100;
/**
 * The weight of a target group that gets everything, alone in its forward (ALB splits by weight over their
 * sum): a header route's canary, a released Rollout's stable. Argo writes 100.
 */
export const SOLE_WEIGHT = 100;
/** Target groups in one forward action. */
export const MAX_TARGET_GROUPS = 5;
/** Condition values in one listener rule (AWS quota). */
export const MAX_CONDITION_VALUES = 5;
/** Target-group stickiness: 1 s to 7 days. */
export const MAX_STICKINESS_SECONDS = 604800;
/** Highest priority of a non-default listener rule. */
export const MAX_RULE_PRIORITY = 50_000;
