// Kubernetes reads of Gateway mode's verification, through @kubernetes/client-node's custom objects: the Gateway
// (status, listeners, dry-run annotation), its GatewayClass (is it the LBC's ALB controller?) and the
// TargetGroupBindings the LBC made for the Gateway (labels gateway.k8s.aws.alb/stack-namespace and stack-name,
// docs/gateway-api-facts.md §4), which map a Service to its target group without an AWS call.

import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_REQUEST_TIMEOUT_MS, timeoutOptions } from '../../k8s/ingress-client.js';
import { GATEWAY_GROUP, type RouteKind } from './route/model.js';

export interface GatewayListener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  allowedRoutes?: { kinds?: Array<{ group?: string; kind: string }> };
}

export interface GatewayObject {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: { gatewayClassName: string; listeners?: GatewayListener[] };
  status?: {
    addresses?: Array<{ type?: string; value: string }>;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

/** A TargetGroupBinding the LBC made for a Gateway: the Service and port it binds, and its target group. */
export interface GatewayBinding {
  name: string;
  serviceName: string;
  servicePort?: number | string;
  targetGroupArn: string;
}

export interface GatewayReader {
  getGateway(namespace: string, name: string, signal?: AbortSignal): Promise<GatewayObject | undefined>;
  getGatewayClass(name: string, signal?: AbortSignal): Promise<{ spec: { controllerName: string } } | undefined>;
  /** The TargetGroupBindings in `namespace` the LBC made for Gateway `gatewayNamespace/gatewayName`. */
  listGatewayBindings(namespace: string, gatewayNamespace: string, gatewayName: string, signal?: AbortSignal): Promise<GatewayBinding[]>;
}

export const STACK_NAMESPACE_LABEL = 'gateway.k8s.aws.alb/stack-namespace';
export const STACK_NAME_LABEL = 'gateway.k8s.aws.alb/stack-name';

function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | string | undefined;
    const msg = typeof body === 'object' && body && typeof body.message === 'string' ? body.message : undefined;
    return `HTTP ${err.code}${msg ? `: ${msg}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function createGatewayReader(kc: KubeConfig, tgbApiVersion = 'elbv2.k8s.aws/v1beta1'): GatewayReader {
  const api = kc.makeApiClient(CustomObjectsApi);
  const [tgbGroup, tgbVersion] = tgbApiVersion.split('/') as [string, string];
  const opts = (signal?: AbortSignal) => timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal);
  return {
    async getGateway(namespace, name, signal) {
      try {
        return JSON.parse(JSON.stringify(await api.getNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace, plural: 'gateways', name }, opts(signal)))) as GatewayObject;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw new Error(`reading Gateway ${namespace}/${name}: ${describe(err)}`, { cause: err });
      }
    },
    async getGatewayClass(name, signal) {
      try {
        return JSON.parse(JSON.stringify(await api.getClusterCustomObject({ group: GATEWAY_GROUP, version: 'v1', plural: 'gatewayclasses', name }, opts(signal)))) as {
          spec: { controllerName: string };
        };
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw new Error(`reading GatewayClass ${name}: ${describe(err)}`, { cause: err });
      }
    },
    async listGatewayBindings(namespace, gatewayNamespace, gatewayName, signal) {
      let list: { items?: unknown[] };
      try {
        list = (await api.listNamespacedCustomObject(
          {
            group: tgbGroup,
            version: tgbVersion,
            namespace,
            plural: 'targetgroupbindings',
            labelSelector: `${STACK_NAMESPACE_LABEL}=${gatewayNamespace},${STACK_NAME_LABEL}=${gatewayName}`,
          },
          opts(signal),
        )) as { items?: unknown[] };
      } catch (err) {
        throw new Error(`listing TargetGroupBindings in ${namespace} (${tgbApiVersion}): ${describe(err)}`, { cause: err });
      }
      const out: GatewayBinding[] = [];
      for (const item of list.items ?? []) {
        const o = item as { metadata?: { name?: string }; spec?: { targetGroupARN?: string; serviceRef?: { name?: string; port?: number | string } } };
        if (!o.metadata?.name || !o.spec?.serviceRef?.name || !o.spec.targetGroupARN) continue;
        const b: GatewayBinding = { name: o.metadata.name, serviceName: o.spec.serviceRef.name, targetGroupArn: o.spec.targetGroupARN };
        if (o.spec.serviceRef.port !== undefined) b.servicePort = o.spec.serviceRef.port;
        out.push(b);
      }
      return out;
    },
  };
}

/** The first port of a Service, or undefined when it cannot be read (the caller falls back). */
export function createServicePortReader(kc: KubeConfig): (namespace: string, name: string, signal?: AbortSignal) => Promise<number | undefined> {
  const core = kc.makeApiClient(CoreV1Api);
  return async (namespace, name, signal) => {
    try {
      const svc = await core.readNamespacedService({ namespace, name }, timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal));
      return svc.spec?.ports?.[0]?.port;
    } catch {
      return undefined;
    }
  };
}

/**
 * The ports of a Service: `undefined` when it does not exist (404), `null` when it could not be read (anything
 * else: the caller does not refuse on what it could not see).
 */
export function createServicePortsReader(kc: KubeConfig): (namespace: string, name: string, signal?: AbortSignal) => Promise<number[] | undefined | null> {
  const core = kc.makeApiClient(CoreV1Api);
  return async (namespace, name, signal) => {
    try {
      const svc = await core.readNamespacedService({ namespace, name }, timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal));
      return (svc.spec?.ports ?? []).map((p) => p.port);
    } catch (err) {
      return err instanceof ApiException && err.code === 404 ? undefined : null;
    }
  };
}

/** What a ReferenceGrant allows (gateway.networking.k8s.io/v1beta1): references from `from` to `to` in its namespace. */
export interface ReferenceGrantView {
  spec?: {
    from?: Array<{ group?: string; kind?: string; namespace?: string }>;
    to?: Array<{ group?: string; kind?: string; name?: string }>;
  };
}

/**
 * The ReferenceGrants of a namespace: [] when there are none (or the CRD is not installed), null when they could
 * not be read (then nothing is refused for them).
 */
export function createReferenceGrantReader(kc: KubeConfig): (namespace: string, signal?: AbortSignal) => Promise<ReferenceGrantView[] | null> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async (namespace, signal) => {
    try {
      const list = (await api.listNamespacedCustomObject(
        { group: GATEWAY_GROUP, version: 'v1beta1', namespace, plural: 'referencegrants' },
        timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal),
      )) as { items?: ReferenceGrantView[] };
      return list.items ?? [];
    } catch (err) {
      return err instanceof ApiException && err.code === 404 ? [] : null;
    }
  };
}

/** Does one of the grants let routes of `routeKind` in `routeNamespace` refer to the Service `service` (their namespace's)? */
export function grantsServiceRef(grants: readonly ReferenceGrantView[], routeNamespace: string, service: string, routeKind: RouteKind = 'HTTPRoute'): boolean {
  return grants.some(
    (g) =>
      (g.spec?.from ?? []).some((f) => f.group === GATEWAY_GROUP && f.kind === routeKind && f.namespace === routeNamespace) &&
      (g.spec?.to ?? []).some((t) => (t.group ?? '') === '' && t.kind === 'Service' && (t.name === undefined || t.name === '' || t.name === service)),
  );
}
