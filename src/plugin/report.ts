// The JSON the read-only API returns for one Rollout. It is built for an Argo Rollouts AnalysisTemplate
// `web` metric: `successCondition: result.verified == true` gates promotion on it, and the rest tells a
// human why a check failed. Each mode fills its part (`ModeReport`, src/plugin/mode.ts); the server only serves it.

export interface LoadBalancerReport {
  /** Hostname the LBC wrote to the Ingress status; null while the LB is being created. */
  hostname: string | null;
  arn: string | null;
  name: string | null;
}

/** Weights by Service name, e.g. `{"app-canary": 20, "app-stable": 80}`. */
export type WeightMap = Record<string, number>;

export interface RuleReport {
  /** Listener rule ARN, or null when no rule forwards to this Ingress's target groups yet. */
  arn: string | null;
  listenerArn: string | null;
  priority: string | null;
  expectedWeights: WeightMap;
  actualWeights: WeightMap;
  verified: boolean;
}

export interface IngressReport {
  name: string;
  loadBalancer: LoadBalancerReport;
  rules: RuleReport[];
  /** What this Ingress asks for (its action annotation, already weight-resolved). */
  expectedWeights: WeightMap;
  /** What the load balancer serves, summed over the matching rules. */
  actualWeights: WeightMap;
  verified: boolean;
  /** Empty when verified; else why not, one entry per problem. */
  reasons: string[];
}

export interface TargetGroupReport {
  /** Listener-rule mode: the role the target group carries in the driven rule. */
  role?: 'stable' | 'canary';
  service: string;
  /** The TargetGroupBinding that ties the Service to the target group. */
  targetGroupBinding: string;
  arn: string | null;
  /** Ready pod IPs (EndpointSlices) the target group should hold. */
  expectedTargets: number;
  registeredTargets: number;
  healthyTargets: number;
  verified: boolean;
  reasons: string[];
}

/** Listener-rule mode: the one rule (or listener default action) the Rollout drives. */
export interface ListenerRuleReport {
  /** The driven rule; null for a listener's default action, or when it could not be found. */
  ruleArn: string | null;
  listenerArn: string | null;
  /** Weights by target group ARN: what SetWeight writes for the current step. */
  expectedWeights: WeightMap;
  /** Weights by target group ARN, as ELBv2 reports the forward action now. */
  actualWeights: WeightMap;
  verified: boolean;
  reasons: string[];
}

/** Gateway mode: one ALB rule the LBC built from a driven HTTPRoute rule. */
export interface GatewayRuleReport {
  /** The route, `namespace/name`, and its kind (an HTTPRoute and a GRPCRoute may share a name). */
  route: string;
  routeKind: 'HTTPRoute' | 'GRPCRoute';
  /** The Gateway (parentRef) whose load balancer holds the rule, `namespace/name`. */
  gateway: string;
  /** The HTTPRoute rule: `rule "<name>"`, or `spec.rules[i]` when it has no name. */
  rule: string;
  ruleArn: string | null;
  /** Weights by Service: what SetWeight writes for the current step. */
  expectedWeights: WeightMap;
  /** Weights by Service (target group ARN when no Service is known for it), as ELBv2 reports the forward now. */
  actualWeights: WeightMap;
  verified: boolean;
}

/** Gateway mode: the HTTPRoutes the Rollout drives and the ALB rules the LBC made of their driven rules. */
export interface GatewayReport {
  /** The HTTPRoutes, `namespace/name`. */
  routes: string[];
  /** The GRPCRoutes, `namespace/name` (only when the Rollout names any). */
  grpcRoutes?: string[];
  /** Weights by Service the driven rules should carry now. */
  expectedWeights: WeightMap;
  rules: GatewayRuleReport[];
  verified: boolean;
  reasons: string[];
}

export interface RolloutReport {
  rollout: {
    namespace: string;
    name: string;
    strategy: 'canary' | 'blueGreen';
    /** Weight the canary should carry now (canary only). */
    desiredWeight: number | null;
  };
  /** True only when every Ingress and every target group checked is verified. */
  verified: boolean;
  /** Flattened reasons of everything not verified; empty when verified. */
  reasons: string[];
  checkedAt: string;
  /** Empty in listener-rule and Gateway mode. */
  ingresses: IngressReport[];
  /** Present only for a Rollout in listener-rule mode. */
  listenerRule?: ListenerRuleReport;
  /** Present only for a Rollout in Gateway mode. */
  gateway?: GatewayReport;
  targetGroups: TargetGroupReport[];
}

/** A mode's part of the report (the server adds the Rollout, the time and the cache). */
export interface ModeReport {
  verified: boolean;
  reasons: string[];
  ingresses: IngressReport[];
  listenerRule?: ListenerRuleReport;
  gateway?: GatewayReport;
  targetGroups: TargetGroupReport[];
}
