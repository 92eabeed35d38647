// The only place that talks to the Kubernetes API about Ingresses. Writes are JSON merge patches that name
// only the keys the plugin owns and carry `metadata.resourceVersion`, so the API server refuses (409) a write
// based on a stale read; the caller re-reads and recomputes (see modes/ingress/update.ts).

import { ApiException, kubeRequest, MERGE_PATCH, type KubeAccess, type SendOptions } from './kube-api.js';
import type { Ingress, IngressEdit } from './ingress.js';

/** Per request: the caller's signal (an RPC call's deadline) and a tighter timeout than the client's own. */
export interface RequestOptions {
  /** Ends the request at once; it then fails with RequestCancelledError. */
  signal?: AbortSignal;
  /** At most this long (never more than the client's own timeout); 0 or less fails without sending. */
  timeoutMs?: number;
}

export interface IngressClient {
  get(namespace: string, name: string, opts?: RequestOptions): Promise<Ingress>;
  /**
   * Applies `edit` only if the Ingress is still at `resourceVersion`; throws IngressConflictError otherwise.
   * Returns the Ingress as stored after the patch.
   */
  patch(namespace: string, name: string, resourceVersion: string, edit: IngressEdit, opts?: RequestOptions): Promise<Ingress>;
}

export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class IngressNotFoundError extends KubernetesApiError {
  override name = 'IngressNotFoundError';
}

export class IngressConflictError extends KubernetesApiError {
  override name = 'IngressConflictError';
}

/** The caller's signal fired: the request was not sent, or its answer is unknown and ignored. */
export class RequestCancelledError extends Error {
  override name = 'RequestCancelledError';
}

/** The merge-patch body for an edit: only the listed annotations, `null` deleting; rules replaced whole. */
export function mergePatchBody(resourceVersion: string, edit: IngressEdit): Record<string, unknown> {
  const body: Record<string, unknown> = { metadata: { resourceVersion, annotations: edit.annotations } };
  if (edit.rules) body.spec = { rules: edit.rules };
  return body;
}

/** The server's own Status message when it sent one (e.g. `ingresses.networking.k8s.io "x" not found`). */
export function statusMessage(err: ApiException<unknown>): string | undefined {
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

export function reasonText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled by the caller';
}

/**
 * A failure that is not the API server's answer (the caller's signal, the request's own timeout, a transport
 * error) as an error naming the request; undefined for an ApiException, which each client reads itself.
 */
export function transportError(err: unknown, what: string, timeoutMs: number, signal?: AbortSignal): Error | undefined {
  if (signal?.aborted) return new RequestCancelledError(`${what} cancelled: ${reasonText(signal)}`);
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new Error(`${what}: no answer from the Kubernetes API within ${timeoutMs} ms`);
  }
  if (!(err instanceof ApiException)) return new Error(`${what}: ${(err as Error)?.message ?? String(err)}`);
  return undefined;
}

function translate(err: unknown, verb: string, namespace: string, name: string, timeoutMs: number, signal?: AbortSignal): Error {
  const transport = transportError(err, `${verb} ingress ${namespace}/${name}`, timeoutMs, signal);
  if (transport || !(err instanceof ApiException)) return transport ?? new Error(String(err));
  const code = err.code as number;
  const detail = statusMessage(err) ?? `HTTP ${code}`;
  if (code === 404) return new IngressNotFoundError(`ingress.networking.k8s.io "${name}" not found`, code);
  if (code === 409) return new IngressConflictError(`${verb} ingress \`${name}\`: ${detail}`, code);
  const hint = code === 403 ? ' (grant the plugin get/patch on networking.k8s.io ingresses in this namespace)' : '';
  return new KubernetesApiError(`${verb} ingress \`${name}\`: ${detail}${hint}`, code);
}

/**
 * Below the default RPC deadline (25 s), so a hung API server fails the call instead of outliving it. Inside
 * an RPC call the router passes a tighter `timeoutMs`: what is left of the call's budget (see CallContext in
 * src/plugin/router.ts).
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/**
 * Aborts each request `ms` after it is sent, or when `signal` fires. Shared by every Kubernetes client of the
 * sidecar that must not outlive a plugin call.
 */
export function timeoutOptions(ms: number, signal?: AbortSignal): SendOptions {
  return { timeoutMs: ms, ...(signal ? { signal } : {}) };
}

export interface IngressClientOptions {
  /** Called on every 409 Conflict (for the conflicts metric). */
  onConflict?: () => void;
  requestTimeoutMs?: number;
}

function ingressPath(namespace: string, name: string): string {
  return `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/ingresses/${encodeURIComponent(name)}`;
}

export function createIngressClient(kc: KubeAccess, opts: IngressClientOptions = {}): IngressClient {
  const clientTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const prepare = (verb: string, namespace: string, name: string, req: RequestOptions | undefined) =>
    prepareRequest(`${verb} ingress ${namespace}/${name}`, clientTimeoutMs, req);

  return {
    async get(namespace, name, req) {
      const { ms, signal, options } = prepare('reading', namespace, name, req);
      try {
        return await kubeRequest<Ingress>(kc, { path: ingressPath(namespace, name), ...options });
      } catch (err) {
        throw translate(err, 'reading', namespace, name, ms, signal);
      }
    },
    async patch(namespace, name, resourceVersion, edit, req) {
      const verb = 'error patching alb';
      const { ms, signal, options } = prepare(verb, namespace, name, req);
      try {
        const body = mergePatchBody(resourceVersion, edit);
        return await kubeRequest<Ingress>(kc, { method: 'PATCH', path: ingressPath(namespace, name), body, contentType: MERGE_PATCH, ...options });
      } catch (err) {
        const out = translate(err, verb, namespace, name, ms, signal);
        if (out instanceof IngressConflictError) opts.onConflict?.();
        throw out;
      }
    },
  };
}

/** Every Ingress of the cluster, for Ingress mode's cleanup sweep. */
export function listAllIngresses(kc: KubeAccess): () => Promise<Ingress[]> {
  return async () => (await kubeRequest<{ items: Ingress[] }>(kc, { path: '/apis/networking.k8s.io/v1/ingresses' })).items;
}

/**
 * One request's timeout and client options, or an error when it must not be sent at all (the caller's signal
 * fired, or no time is left before the plugin call's deadline). `what` names the request: "reading ingress a/b".
 */
export function prepareRequest(what: string, clientTimeoutMs: number, req: RequestOptions | undefined) {
  const signal = req?.signal;
  if (signal?.aborted) throw new RequestCancelledError(`${what} cancelled: ${reasonText(signal)}`);
  const ms = Math.min(clientTimeoutMs, req?.timeoutMs ?? clientTimeoutMs);
  if (ms <= 0) throw new Error(`${what}: no time left before the plugin call's deadline (--rpc-timeout-seconds)`);
  return { ms, signal, options: timeoutOptions(ms, signal) };
}
