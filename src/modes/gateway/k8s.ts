// Kubernetes reads of Gateway mode's verification, through the sidecar's Kubernetes client (k8s/kube-api.ts): the Gateway
// (status, listeners, dry-run annotation), its GatewayClass (is it the LBC's ALB controller?) and the
// TargetGroupBindings the LBC made for the Gateway (labels gateway.k8s.aws.alb/stack-namespace and stack-name,
// docs/gateway-api-facts.md §4), which map a Service to its target group without an AWS call.

import { ApiException, kubeRequest, type KubeAccess } from '../../k8s/kube-api.js';
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

export function createGatewayReader(kc: KubeAccess, tgbApiVersion = 'elbv2.k8s.aws/v1beta1'): GatewayReader {
  const [tgbGroup, tgbVersion] = tgbApiVersion.split('/') as [string, string];
  const opts = (signal?: AbortSignal) => timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal);
  return {
    async getGateway(namespace, name, signal) {
      try {
        return await kubeRequest<GatewayObject>(kc, { path: `/apis/${GATEWAY_GROUP}/v1/namespaces/${encodeURIComponent(namespace)}/gateways/${encodeURIComponent(name)}`, ...opts(signal) });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw new Error(`reading Gateway ${namespace}/${name}: ${describe(err)}`, { cause: err });
      }
    },
    async getGatewayClass(name, signal) {
      try {
        return await kubeRequest<{ spec: { controllerName: string } }>(kc, { path: `/apis/${GATEWAY_GROUP}/v1/gatewayclasses/${encodeURIComponent(name)}`, ...opts(signal) });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw new Error(`reading GatewayClass ${name}: ${describe(err)}`, { cause: err });
      }
    },
    async listGatewayBindings(namespace, gatewayNamespace, gatewayName, signal) {
      let list: { items?: unknown[] };
      try {
        list = await kubeRequest<{ items?: unknown[] }>(kc, {
          path: `/apis/${tgbGroup}/${tgbVersion}/namespaces/${encodeURIComponent(namespace)}/targetgroupbindings`,
          query: { labelSelector: `${STACK_NAMESPACE_LABEL}=${gatewayNamespace},${STACK_NAME_LABEL}=${gatewayName}` },
          ...opts(signal),
        });
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

function readService(kc: KubeAccess, namespace: string, name: string, signal?: AbortSignal): Promise<{ spec?: { ports?: Array<{ port: number }> } }> {
  return kubeRequest(kc, { path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`, ...timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal) });
}

/** The first port of a Service, or undefined when it cannot be read (the caller falls back). */
export function createServicePortReader(kc: KubeAccess): (namespace: string, name: string, signal?: AbortSignal) => Promise<number | undefined> {
  return async (namespace, name, signal) => {
    try {
      const svc = await readService(kc, namespace, name, signal);
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
export function createServicePortsReader(kc: KubeAccess): (namespace: string, name: string, signal?: AbortSignal) => Promise<number[] | undefined | null> {
  return async (namespace, name, signal) => {
    try {
      const svc = await readService(kc, namespace, name, signal);
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
export function createReferenceGrantReader(kc: KubeAccess): (namespace: string, signal?: AbortSignal) => Promise<ReferenceGrantView[] | null> {
  return async (namespace, signal) => {
    try {
      const list = await kubeRequest<{ items?: ReferenceGrantView[] }>(kc, {
        path: `/apis/${GATEWAY_GROUP}/v1beta1/namespaces/${encodeURIComponent(namespace)}/referencegrants`,
        ...timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal),
      });
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
