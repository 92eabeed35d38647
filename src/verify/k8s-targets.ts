// TargetsK8s over @kubernetes/client-node: live reads of the Service, its EndpointSlices (Endpoints when
// discovery.k8s.io is not served) and the namespace's TargetGroupBindings at the configured apiVersion.
import { ApiException, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  targetGroupBindingResource,
  type EndpointSliceView,
  type EndpointsView,
  type ServiceView,
  type TargetGroupBindingView,
  type TargetsK8s,
} from './k8s.js';

function status(err: unknown): number | undefined {
  return err instanceof ApiException ? (err.code as number) : undefined;
}

function fail(err: unknown, what: string, rbac: string): Error {
  const code = status(err);
  if (code === 403) return new Error(`reading ${what}: forbidden; grant the plugin ${rbac}`);
  const detail = err instanceof ApiException ? `HTTP ${code}` : err instanceof Error ? err.message : String(err);
  return new Error(`reading ${what}: ${detail}`);
}

interface RawTgb {
  metadata?: { name?: string };
  spec?: { targetGroupARN?: string; targetType?: string; serviceRef?: { name?: string; port?: number | string } };
}

export function createTargetsK8s(kc: KubeConfig): TargetsK8s {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  return {
    async getService(namespace, name): Promise<ServiceView | undefined> {
      try {
        const svc = await core.readNamespacedService({ namespace, name });
        return {
          name,
          ports: (svc.spec?.ports ?? []).map((p) => ({
            ...(p.name ? { name: p.name } : {}),
            port: p.port,
            ...(p.targetPort !== undefined ? { targetPort: p.targetPort as number | string } : {}),
          })),
        };
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw fail(err, `Service ${namespace}/${name}`, 'get on services');
      }
    },

    async listTargetGroupBindings(namespace, apiVersion): Promise<TargetGroupBindingView[]> {
      const { group, version, plural } = targetGroupBindingResource(apiVersion);
      try {
        const list = (await custom.listNamespacedCustomObject({ group, version, namespace, plural })) as { items?: RawTgb[] };
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
        // The CRD not being installed means there is nothing bound; anything else is a real failure.
        if (status(err) === 404) return [];
        throw fail(err, `${plural}.${group} in ${namespace}`, `list on ${plural} in ${group}`);
      }
    },

    async listEndpointSlices(namespace, service): Promise<EndpointSliceView[] | undefined> {
      try {
        const list = await discovery.listNamespacedEndpointSlice({
          namespace,
          labelSelector: `kubernetes.io/service-name=${service}`,
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
        const ep = await core.readNamespacedEndpoints({ namespace, name });
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
  };
}
