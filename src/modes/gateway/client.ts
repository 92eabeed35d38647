// The only place that talks to the Kubernetes API about HTTPRoutes: a read and a JSON patch (RFC 6902) on
// gateway.networking.k8s.io/v1 httproutes, each bounded by the call's signal and budget like the Ingress client.
// A patch whose `test` fails (another writer changed the route since our read) is answered 422 by the API server;
// a write racing another is 409: both are RouteConflictError, and the caller re-reads (update.ts).

import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_REQUEST_TIMEOUT_MS, KubernetesApiError, RequestCancelledError, timeoutOptions, type RequestOptions } from '../../k8s/ingress-client.js';
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

function reasonText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled by the caller';
}

function statusMessage(err: ApiException<unknown>): string | undefined {
  const body = err.body;
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const status = JSON.parse(body) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : undefined;
  } catch {
    return body.slice(0, 300);
  }
}

function translate(err: unknown, verb: string, namespace: string, name: string, timeoutMs: number, signal?: AbortSignal): Error {
  const what = `${verb} HTTPRoute ${namespace}/${name}`;
  if (signal?.aborted) return new RequestCancelledError(`${what} cancelled: ${reasonText(signal)}`);
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new Error(`${what}: no answer from the Kubernetes API within ${timeoutMs} ms`);
  }
  if (!(err instanceof ApiException)) return new Error(`${what}: ${(err as Error)?.message ?? String(err)}`);
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

  function prepare(verb: string, namespace: string, name: string, req: RequestOptions | undefined) {
    const signal = req?.signal;
    if (signal?.aborted) throw new RequestCancelledError(`${verb} HTTPRoute ${namespace}/${name} cancelled: ${reasonText(signal)}`);
    const ms = Math.min(clientTimeoutMs, req?.timeoutMs ?? clientTimeoutMs);
    if (ms <= 0) throw new Error(`${verb} HTTPRoute ${namespace}/${name}: no time left before the plugin call's deadline (--rpc-timeout-seconds)`);
    return { ms, signal, options: timeoutOptions(ms, signal) };
  }

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
