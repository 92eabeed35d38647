// The Kubernetes reads target verification needs, as a narrow interface: the adapter
// (src/verify/k8s-targets.ts, through src/k8s/kube-api.ts) implements it; the logic never sees the client.

export interface ServicePortView {
  name?: string;
  port: number;
  /** Number, name of a container port, or absent (= port). */
  targetPort?: number | string;
}

export interface ServiceView {
  name: string;
  ports: ServicePortView[];
}

export interface TargetGroupBindingView {
  name: string;
  targetGroupArn: string;
  /** `ip` or `instance`; absent on old objects means the LBC default (instance). */
  targetType?: string;
  serviceRef: { name: string; port: number | string };
}

export interface EndpointSliceView {
  ports: Array<{ name?: string; port?: number }>;
  endpoints: Array<{
    addresses: string[];
    /** `ready` absent means ready (Kubernetes API convention). */
    conditions?: { ready?: boolean | null; terminating?: boolean | null };
  }>;
}

export interface EndpointsView {
  subsets: Array<{
    addresses: Array<{ ip: string }>;
    ports: Array<{ name?: string; port: number }>;
  }>;
}

export interface TargetsK8s {
  /** Undefined when the Service does not exist. */
  getService(namespace: string, name: string): Promise<ServiceView | undefined>;
  /** TargetGroupBindings of the namespace, at the configured apiVersion (`<group>/<version>`). */
  listTargetGroupBindings(namespace: string, apiVersion: string): Promise<TargetGroupBindingView[]>;
  /** EndpointSlices labelled `kubernetes.io/service-name=<service>`; undefined when the API is not served. */
  listEndpointSlices(namespace: string, service: string): Promise<EndpointSliceView[] | undefined>;
  /** The legacy Endpoints object; undefined when it does not exist. */
  getEndpoints(namespace: string, name: string): Promise<EndpointsView | undefined>;
}

/** `eks.amazonaws.com/v1` → group, version and the plural resource name (argo-alb-spec.md §9.2 case 1). */
export function targetGroupBindingResource(apiVersion: string): { group: string; version: string; plural: string } {
  const slash = apiVersion.indexOf('/');
  if (slash <= 0 || slash === apiVersion.length - 1) {
    throw new Error(`TargetGroupBinding apiVersion "${apiVersion}" is not <group>/<version>; use elbv2.k8s.aws/v1beta1 or eks.amazonaws.com/v1`);
  }
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), plural: 'targetgroupbindings' };
}
