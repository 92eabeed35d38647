// The only place that talks to the Kubernetes API about HTTPRoutes: a read, a JSON patch (RFC 6902) and the
// cleanup sweep's cluster-wide list on gateway.networking.k8s.io/v1 httproutes, each bounded by the call's signal
// and budget like the Ingress client.
// A patch whose `test` fails (another writer changed the route since our read) is answered 422 by the API server;
// a write racing another is 409: both are RouteConflictError, and the caller re-reads (update.ts).

import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubernetesApiError, prepareRequest, statusMessage, transportError, type RequestOptions } from '../../k8s/ingress-client.js';
import type { JsonPatchOp } from './json-patch.js';
import { GATEWAY_GROUP, type HTTPRoute } from './route/model.js';

export interface HTTPRouteClient {
  get(namespace: string, name: string, opts?: RequestOptions): Promise<HTTPRoute>;
  /** Applies `ops`; throws RouteConflictError on 409/422. Returns the route as stored after the patch. */
  patch(namespace: string, name: string, ops: JsonPatchOp[], opts?: RequestOptions): Promise<HTTPRoute>;
}

export class RouteNotFoundError extends KubernetesApiError {
  override name = 'RouteNotFoundError';
}

/** 409 Conflict, or 422 from a failed `test` (or any other refusal of the patch: the caller tells them apart by a re-read). */
export class RouteConflictError extends KubernetesApiError {
  override name = 'RouteConflictError';
}

const PLURAL = 'httproutes';
const VERSION = 'v1';
/** Routes per list request of the sweep. */
const LIST_PAGE = 500;

function translate(err: unknown, verb: string, namespace: string, name: string, timeoutMs: number, signal?: AbortSignal): Error {
  const what = `${verb} HTTPRoute ${namespace}/${name}`;
  const transport = transportError(err, what, timeoutMs, signal);
  if (transport || !(err instanceof ApiException)) return transport ?? new Error(String(err));
  const code = err.code as number;
  const detail = statusMessage(err) ?? `HTTP ${code}`;
  if (code === 404) {
    return new RouteNotFoundError(
      detail.includes('not found') && !detail.includes('the server could not find')
        ? `httproutes.gateway.networking.k8s.io "${name}" not found in namespace ${namespace}`
        : `${what}: ${detail} (are the Gateway API CRDs installed, gateway.networking.k8s.io/v1 httproutes?)`,
      code,
    );
  }
  if (code === 409 || code === 422) return new RouteConflictError(`${what}: ${detail}`, code);
  const hint = code === 403 ? ' (grant the plugin get/patch on gateway.networking.k8s.io httproutes in this namespace)' : '';
  return new KubernetesApiError(`${what}: ${detail}${hint}`, code);
}

export function createHTTPRouteClient(kc: KubeConfig, opts: { requestTimeoutMs?: number; onConflict?: () => void } = {}): HTTPRouteClient {
  const api = kc.makeApiClient(CustomObjectsApi);
  const clientTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const prepare = (verb: string, namespace: string, name: string, req: RequestOptions | undefined) =>
    prepareRequest(`${verb} HTTPRoute ${namespace}/${name}`, clientTimeoutMs, req);

  return {
    async get(namespace, name, req) {
      const { ms, signal, options } = prepare('reading', namespace, name, req);
      try {
        const obj: unknown = await api.getNamespacedCustomObject({ group: GATEWAY_GROUP, version: VERSION, namespace, plural: PLURAL, name }, options);
        return JSON.parse(JSON.stringify(obj)) as HTTPRoute;
      } catch (err) {
        throw translate(err, 'reading', namespace, name, ms, signal);
      }
    },
    async patch(namespace, name, ops, req) {
      const { ms, signal, options } = prepare('patching', namespace, name, req);
      try {
        const obj: unknown = await api.patchNamespacedCustomObject(
          { group: GATEWAY_GROUP, version: VERSION, namespace, plural: PLURAL, name, body: ops },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch, options),
        );
        return JSON.parse(JSON.stringify(obj)) as HTTPRoute;
      } catch (err) {
        const out = translate(err, 'patching', namespace, name, ms, signal);
        if (out instanceof RouteConflictError) opts.onConflict?.();
        throw out;
      }
    },
  };
}

/**
 * Every HTTPRoute of the cluster, paged, for the cleanup sweep; undefined when the API server serves no v1
 * httproutes (the Gateway API is not installed).
 */
export function listAllHTTPRoutes(kc: KubeConfig, opts: { requestTimeoutMs?: number } = {}): () => Promise<HTTPRoute[] | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const clientTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return async () => {
    const out: HTTPRoute[] = [];
    let token: string | undefined;
    do {
      const { ms, signal, options } = prepareRequest('listing HTTPRoutes', clientTimeoutMs, undefined);
      let page: { items?: unknown[]; metadata?: { continue?: string } };
      try {
        page = (await api.listClusterCustomObject(
          { group: GATEWAY_GROUP, version: VERSION, plural: PLURAL, limit: LIST_PAGE, ...(token ? { _continue: token } : {}) },
          options,
        )) as typeof page;
      } catch (err) {
        // A cluster-wide list has one 404: the resource type is not served.
        if (err instanceof ApiException && err.code === 404) return undefined;
        const transport = transportError(err, 'listing HTTPRoutes', ms, signal);
        if (transport || !(err instanceof ApiException)) throw transport ?? err;
        const code = err.code as number;
        const hint = code === 403 ? ' (grant the plugin list on gateway.networking.k8s.io httproutes in every namespace)' : '';
        throw new KubernetesApiError(`listing HTTPRoutes: ${statusMessage(err) ?? `HTTP ${code}`}${hint}`, code);
      }
      for (const item of page.items ?? []) out.push(JSON.parse(JSON.stringify(item)) as HTTPRoute);
      token = page.metadata?.continue || undefined;
    } while (token);
    return out;
  };
}
