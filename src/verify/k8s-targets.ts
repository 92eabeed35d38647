// TargetsK8s over src/k8s/kube-api.ts (client-node only for the types): live reads of the Service, its EndpointSlices (Endpoints when
// discovery.k8s.io is not served), the pods its selector picks and the namespace's TargetGroupBindings at the
// configured apiVersion. Every request has a timeout, so a hung API server fails a check instead of
// outliving the plugin call it serves.
import type { V1Endpoints, V1EndpointSliceList, V1PodList, V1Pod, V1Service } from '@kubernetes/client-node';
import { ApiException, kubeRequest, type KubeAccess } from '../k8s/kube-api.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, timeoutOptions } from '../k8s/ingress-client.js';
import {
  targetGroupBindingResource,
  type EndpointSliceView,
  type EndpointsView,
  type ServiceView,
  type TargetGroupBindingView,
  type TargetsK8s,
} from './k8s.js';
import type { PodReader, PodView } from './target-health.js';

function status(err: unknown): number | undefined {
  return err instanceof ApiException ? (err.code as number) : undefined;
}

function fail(err: unknown, what: string, rbac: string): Error {
  const code = status(err);
  if (code === 403) return new Error(`reading ${what}: forbidden; grant the plugin ${rbac}`);
  const detail = err instanceof ApiException ? `HTTP ${code}` : err instanceof Error ? err.message : String(err);
  return new Error(`reading ${what}: ${detail}`);
}

/**
 * The TargetGroupBinding resource of `--aws-target-group-binding-api-version` is not served: the CRD is not
 * installed, or the flag names another group or version. Never "nothing to verify": the final-switch guard
 * would then let traffic go to a target group nobody checked.
 */
export class TargetGroupBindingApiMissingError extends Error {
  override name = 'TargetGroupBindingApiMissingError';
  constructor(readonly apiVersion: string) {
    const { group, version, plural } = targetGroupBindingResource(apiVersion);
    super(
      `the cluster does not serve ${plural}.${group} at ${group}/${version} (--aws-target-group-binding-api-version=${apiVersion}): ` +
        'install the AWS Load Balancer Controller and its CRDs, or set --aws-target-group-binding-api-version to the ' +
        'TargetGroupBinding API the cluster serves (elbv2.k8s.aws/v1beta1 with the AWS Load Balancer Controller, ' +
        'eks.amazonaws.com/v1 on EKS Auto Mode)',
    );
  }
}

/**
 * A 404 that means the resource type is not served, not that one object is missing: the server then answers
 * "the server could not find the requested resource" (or plain text for an unknown group), where a missing
 * object's Status names it (`details.name`, `"<name>" not found`).
 */
export function isResourceTypeMissing(err: unknown, objectName?: string): boolean {
  if (status(err) !== 404) return false;
  const raw = (err as ApiException<unknown>).body;
  let body: unknown = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw);
    } catch {
      return true;
    }
  }
  const st = body as { details?: { name?: unknown }; message?: unknown } | null | undefined;
  if (typeof st?.details?.name === 'string' && st.details.name !== '') return false;
  if (objectName !== undefined && typeof st?.message === 'string' && st.message.includes(`"${objectName}"`)) return false;
  return true;
}

interface RawTgb {
  metadata?: { name?: string };
  spec?: { targetGroupARN?: string; targetType?: string; serviceRef?: { name?: string; port?: number | string } };
}

function podView(p: V1Pod): PodView {
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const ports = (p.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((port) => ({ ...(port.name ? { name: port.name } : {}), containerPort: port.containerPort })),
  );
  return {
    name: p.metadata?.name ?? '',
    ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
    ready,
    terminating: p.metadata?.deletionTimestamp !== undefined && p.metadata.deletionTimestamp !== null,
    ...(p.metadata?.labels ? { labels: { ...p.metadata.labels } } : {}),
    ports,
  };
}

/** `k=v,k2=v2` for a Service selector. */
export function labelSelector(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function createTargetsK8s(kc: KubeAccess, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): TargetsK8s & PodReader {
  const timeout = timeoutOptions(requestTimeoutMs);
  const ns = (namespace: string) => `/namespaces/${encodeURIComponent(namespace)}`;

  return {
    async getService(namespace, name): Promise<(ServiceView & { selector?: Record<string, string> }) | undefined> {
      try {
        const svc = await kubeRequest<V1Service>(kc, { path: `/api/v1${ns(namespace)}/services/${encodeURIComponent(name)}`, ...timeout });
        return {
          name,
          ports: (svc.spec?.ports ?? []).map((p) => ({
            ...(p.name ? { name: p.name } : {}),
            port: p.port,
            ...(p.targetPort !== undefined ? { targetPort: p.targetPort as number | string } : {}),
          })),
          ...(svc.spec?.selector && Object.keys(svc.spec.selector).length > 0 ? { selector: { ...svc.spec.selector } } : {}),
        };
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw fail(err, `Service ${namespace}/${name}`, 'get on services');
      }
    },

    async listTargetGroupBindings(namespace, apiVersion): Promise<TargetGroupBindingView[]> {
      const { group, version, plural } = targetGroupBindingResource(apiVersion);
      try {
        const list = await kubeRequest<{ items?: RawTgb[] }>(kc, { path: `/apis/${group}/${version}${ns(namespace)}/${plural}`, ...timeout });
        return (list.items ?? []).flatMap((t) => {
          const ref = t.spec?.serviceRef;
          if (!t.spec?.targetGroupARN || !ref?.name || ref.port === undefined) return [];
          return [{
            name: t.metadata?.name ?? '',
            targetGroupArn: t.spec.targetGroupARN,
            ...(t.spec.targetType ? { targetType: t.spec.targetType } : {}),
            serviceRef: { name: ref.name, port: ref.port },
          }];
        });
      } catch (err) {
        // A 404 on the list means the API is not served (the CRD is missing or the flag is wrong), which is
        // a configuration error to report, never "nothing is bound".
        if (status(err) === 404) throw new TargetGroupBindingApiMissingError(apiVersion);
        throw fail(err, `${plural}.${group} in ${namespace}`, `list on ${plural} in ${group}`);
      }
    },

    async listEndpointSlices(namespace, service): Promise<EndpointSliceView[] | undefined> {
      try {
        const list = await kubeRequest<V1EndpointSliceList>(kc, {
          path: `/apis/discovery.k8s.io/v1${ns(namespace)}/endpointslices`,
          query: { labelSelector: `kubernetes.io/service-name=${service}` },
          ...timeout,
        });
        return list.items.map((s) => ({
          ports: (s.ports ?? []).map((p) => ({
            ...(p.name !== undefined ? { name: p.name } : {}),
            ...(p.port !== undefined ? { port: p.port } : {}),
          })),
          endpoints: (s.endpoints ?? []).map((e) => ({
            addresses: e.addresses,
            ...(e.conditions
              ? { conditions: { ready: e.conditions.ready ?? null, terminating: e.conditions.terminating ?? null } }
              : {}),
          })),
        }));
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw fail(err, `EndpointSlices of ${namespace}/${service}`, 'list on endpointslices in discovery.k8s.io');
      }
    },

    async getEndpoints(namespace, name): Promise<EndpointsView | undefined> {
      try {
        const ep = await kubeRequest<V1Endpoints>(kc, { path: `/api/v1${ns(namespace)}/endpoints/${encodeURIComponent(name)}`, ...timeout });
        return {
          subsets: (ep.subsets ?? []).map((s) => ({
            addresses: (s.addresses ?? []).map((a) => ({ ip: a.ip })),
            ports: (s.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port })),
          })),
        };
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw fail(err, `Endpoints ${namespace}/${name}`, 'get on endpoints');
      }
    },

    async listPods(namespace, selector): Promise<PodView[]> {
      try {
        const list = await kubeRequest<V1PodList>(kc, { path: `/api/v1${ns(namespace)}/pods`, query: { labelSelector: labelSelector(selector) }, ...timeout });
        return list.items.map(podView);
      } catch (err) {
        throw fail(err, `pods ${labelSelector(selector)} in ${namespace}`, 'list on pods (the argo-rollouts controller role has it)');
      }
    },
  };
}

/**
 * Readiness: the TargetGroupBinding API of `--aws-target-group-binding-api-version` is served (API discovery,
 * which every authenticated client may read). Without it target verification and the final-switch guard
 * cannot work, so the sidecar says so on /readyz instead of at the first final switch. (The shape of the
 * server's ReadinessCheck, src/server/health.ts.)
 */
export function targetGroupBindingApiCheck(kc: KubeAccess, apiVersion: string): { name: string; check(signal: AbortSignal): Promise<void> } {
  return {
    name: 'target-group-binding-api',
    check: async (signal) => {
      const { group, version, plural } = targetGroupBindingResource(apiVersion);
      let resources: Array<{ name: string }>;
      try {
        resources = (await kubeRequest<{ resources: Array<{ name: string }> }>(kc, { path: `/apis/${group}/${version}`, ...timeoutOptions(DEFAULT_REQUEST_TIMEOUT_MS, signal) })).resources;
      } catch (err) {
        if (status(err) === 404) throw new TargetGroupBindingApiMissingError(apiVersion);
        throw fail(err, `API discovery of ${group}/${version}`, 'the default discovery access (system:discovery)');
      }
      if (!resources.some((r) => r.name === plural)) throw new TargetGroupBindingApiMissingError(apiVersion);
    },
  };
}
