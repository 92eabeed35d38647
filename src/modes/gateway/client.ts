// The only place that talks to the Kubernetes API about the routes: a read, a JSON patch (RFC 6902) and the
// cleanup sweep's cluster-wide list on gateway.networking.k8s.io/v1 httproutes or grpcroutes, each bounded by the
// call's signal and budget like the Ingress client.
// A patch whose `test` fails (another writer changed the route since our read) is answered 422 by the API server;
// a write racing another is 409: both are RouteConflictError, and the caller re-reads (update.ts).

import { ApiException, JSON_PATCH, kubeRequest, type KubeAccess } from '../../k8s/kube-api.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubernetesApiError, prepareRequest, statusMessage, transportError, type RequestOptions } from '../../k8s/ingress-client.js';
import type { JsonPatchOp } from './json-patch.js';
import { GATEWAY_GROUP, ROUTE_PLURAL, type HTTPRoute, type RouteKind } from './route/model.js';

/** Reads and patches routes of either kind (`kind` absent: HTTPRoute). */
export interface HTTPRouteClient {
  get(namespace: string, name: string, opts?: RequestOptions, kind?: RouteKind): Promise<HTTPRoute>;
  /** Applies `ops`; throws RouteConflictError on 409/422. Returns the route as stored after the patch. */
  patch(namespace: string, name: string, ops: JsonPatchOp[], opts?: RequestOptions, kind?: RouteKind): Promise<HTTPRoute>;
}

export class RouteNotFoundError extends KubernetesApiError {
  override name = 'RouteNotFoundError';
}

/** 409 Conflict, or 422 from a failed `test` (or any other refusal of the patch: the caller tells them apart by a re-read). */
export class RouteConflictError extends KubernetesApiError {
  override name = 'RouteConflictError';
}

const VERSION = 'v1';
/** Routes per list request of the sweep. */
const LIST_PAGE = 500;

function translate(err: unknown, kind: RouteKind, verb: string, namespace: string, name: string, timeoutMs: number, signal?: AbortSignal): Error {
  const what = `${verb} ${kind} ${namespace}/${name}`;
  const plural = ROUTE_PLURAL[kind];
  const transport = transportError(err, what, timeoutMs, signal);
  if (transport || !(err instanceof ApiException)) return transport ?? new Error(String(err));
  const code = err.code as number;
  const detail = statusMessage(err) ?? `HTTP ${code}`;
  if (code === 404) {
    return new RouteNotFoundError(
      detail.includes('not found') && !detail.includes('the server could not find')
        ? `${plural}.gateway.networking.k8s.io "${name}" not found in namespace ${namespace}`
        : `${what}: ${detail} (are the Gateway API CRDs installed, gateway.networking.k8s.io/v1 ${plural}?)`,
      code,
    );
  }
  if (code === 409 || code === 422) return new RouteConflictError(`${what}: ${detail}`, code);
  const hint = code === 403 ? ` (grant the plugin get/patch on gateway.networking.k8s.io ${plural} in this namespace)` : '';
  return new KubernetesApiError(`${what}: ${detail}${hint}`, code);
}

const routePath = (kind: RouteKind, namespace: string, name: string) =>
  `/apis/${GATEWAY_GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${ROUTE_PLURAL[kind]}/${encodeURIComponent(name)}`;

export function createHTTPRouteClient(kc: KubeAccess, opts: { requestTimeoutMs?: number; onConflict?: (kind: RouteKind) => void } = {}): HTTPRouteClient {
  const clientTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const prepare = (kind: RouteKind, verb: string, namespace: string, name: string, req: RequestOptions | undefined) =>
    prepareRequest(`${verb} ${kind} ${namespace}/${name}`, clientTimeoutMs, req);

  return {
    async get(namespace, name, req, kind = 'HTTPRoute') {
      const { ms, signal, options } = prepare(kind, 'reading', namespace, name, req);
      try {
        return await kubeRequest<HTTPRoute>(kc, { path: routePath(kind, namespace, name), ...options });
      } catch (err) {
        throw translate(err, kind, 'reading', namespace, name, ms, signal);
      }
    },
    async patch(namespace, name, ops, req, kind = 'HTTPRoute') {
      const { ms, signal, options } = prepare(kind, 'patching', namespace, name, req);
      try {
        return await kubeRequest<HTTPRoute>(kc, { method: 'PATCH', path: routePath(kind, namespace, name), body: ops, contentType: JSON_PATCH, ...options });
      } catch (err) {
        const out = translate(err, kind, 'patching', namespace, name, ms, signal);
        if (out instanceof RouteConflictError) opts.onConflict?.(kind);
        throw out;
      }
    },
  };
}

/**
 * Every route of one kind in the cluster, paged, for the cleanup sweep, each with its `kind` set; undefined when
 * the API server does not serve that kind (the Gateway API, or its GRPCRoute CRD, is not installed).
 */
export function listAllRoutes(kc: KubeAccess, kind: RouteKind, opts: { requestTimeoutMs?: number } = {}): () => Promise<HTTPRoute[] | undefined> {
  const clientTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const plural = ROUTE_PLURAL[kind];
  const what = `listing ${kind}s`;
  return async () => {
    const out: HTTPRoute[] = [];
    let token: string | undefined;
    do {
      const { ms, signal, options } = prepareRequest(what, clientTimeoutMs, undefined);
      let page: { items?: unknown[]; metadata?: { continue?: string } };
      try {
        page = await kubeRequest<typeof page>(kc, { path: `/apis/${GATEWAY_GROUP}/${VERSION}/${plural}`, query: { limit: LIST_PAGE, continue: token }, ...options });
      } catch (err) {
        // A cluster-wide list has one 404: the resource type is not served.
        if (err instanceof ApiException && err.code === 404) return undefined;
        const transport = transportError(err, what, ms, signal);
        if (transport || !(err instanceof ApiException)) throw transport ?? err;
        const code = err.code as number;
        const hint = code === 403 ? ` (grant the plugin list on gateway.networking.k8s.io ${plural} in every namespace)` : '';
        throw new KubernetesApiError(`${what}: ${statusMessage(err) ?? `HTTP ${code}`}${hint}`, code);
      }
      for (const item of page.items ?? []) out.push({ ...(item as HTTPRoute), kind });
      token = page.metadata?.continue || undefined;
    } while (token);
    return out;
  };
}

/** Every HTTPRoute and GRPCRoute of the cluster; undefined when neither kind is served. */
export function listAllGatewayRoutes(kc: KubeAccess, opts: { requestTimeoutMs?: number } = {}): () => Promise<HTTPRoute[] | undefined> {
  const lists = (['HTTPRoute', 'GRPCRoute'] as const).map((kind) => listAllRoutes(kc, kind, opts));
  return async () => {
    const found = await Promise.all(lists.map((list) => list()));
    return found.every((f) => f === undefined) ? undefined : found.flatMap((f) => f ?? []);
  };
}
