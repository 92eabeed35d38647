// The parts of an argoproj.io/v1alpha1 Rollout this plugin reads, in the Kubernetes JSON shape
// (camelCase, as the API server and `kubectl get -o json` show it). The go-plugin layer converts the
// gob-decoded Go struct (Go field names) into this shape, so every mode reads one form.
// Fields we never read are kept loosely typed so a full object still type-checks.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  [key: string]: unknown;
}

export interface WeightDestination {
  weight: number;
  serviceName: string;
  podTemplateHash?: string;
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface HeaderRoutingMatch {
  headerName: string;
  headerValue?: StringMatch | null;
}

export interface SetHeaderRoute {
  name: string;
  match?: HeaderRoutingMatch[] | null;
}

export interface RouteMatch {
  method?: StringMatch | null;
  path?: StringMatch | null;
  headers?: Record<string, StringMatch> | null;
}

export interface SetMirrorRoute {
  name: string;
  match?: RouteMatch[] | null;
  percentage?: number | null;
}

export interface CanaryStep {
  setWeight?: number | null;
  pause?: { duration?: string | number } | null;
  setHeaderRoute?: SetHeaderRoute | null;
  setMirrorRoute?: SetMirrorRoute | null;
  experiment?: unknown;
  analysis?: unknown;
  setCanaryScale?: unknown;
  plugin?: unknown;
  [key: string]: unknown;
}

export interface TrafficRouting {
  /** Plugin name → its configuration (raw JSON in Go, already parsed here). */
  plugins?: Record<string, unknown> | null;
  managedRoutes?: Array<{ name: string }> | null;
  /** Absent means 100. */
  maxTrafficWeight?: number | null;
  alb?: unknown;
  [key: string]: unknown;
}

export interface CanaryStrategy {
  canaryService?: string;
  stableService?: string;
  pingPong?: { pingService: string; pongService: string } | null;
  trafficRouting?: TrafficRouting | null;
  steps?: CanaryStep[] | null;
  dynamicStableScale?: boolean;
  [key: string]: unknown;
}

export interface RolloutSpec {
  replicas?: number | null;
  strategy: {
    canary?: CanaryStrategy | null;
    blueGreen?: unknown;
  };
  [key: string]: unknown;
}

export interface TrafficWeights {
  canary: WeightDestination;
  stable: WeightDestination;
  additional?: WeightDestination[] | null;
  verified?: boolean | null;
}

export interface RolloutStatus {
  currentPodHash?: string;
  stableRS?: string;
  currentStepIndex?: number | null;
  currentStepHash?: string;
  abort?: boolean;
  promoteFull?: boolean;
  phase?: string;
  canary?: {
    /** Role, not a Service name: "ping" means ping is stable; "pong" or "" means pong is stable. */
    stablePingPong?: string;
    weights?: TrafficWeights | null;
    currentStepAnalysisRunStatus?: unknown;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

export interface Rollout {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: RolloutSpec;
  status?: RolloutStatus | null;
}

/** `namespace/name`, the identity cleanup and logs know a Rollout by (`default` when it has no namespace). */
export function rolloutId(namespace: string | undefined, name: string): string {
  return `${namespace || 'default'}/${name}`;
}
