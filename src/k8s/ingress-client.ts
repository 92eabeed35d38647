// The only place that talks to the Kubernetes API about Ingresses. Writes are JSON merge patches that name
// only the keys the plugin owns and carry `metadata.resourceVersion`, so the API server refuses (409) a write
// based on a stale read; the caller re-reads and recomputes (see trafficrouter/ingress-update.ts).

import {
  ApiException,
  KubeConfig,
  NetworkingV1Api,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import type { Ingress, IngressEdit } from './ingress.js';

export interface IngressClient {
  get(namespace: string, name: string): Promise<Ingress>;
  /**
   * Applies `edit` only if the Ingress is still at `resourceVersion`; throws IngressConflictError otherwise.
   * Returns the Ingress as stored after the patch.
   */
  patch(namespace: string, name: string, resourceVersion: string, edit: IngressEdit): Promise<Ingress>;
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

/** The merge-patch body for an edit: only the listed annotations, `null` deleting; rules replaced whole. */
export function mergePatchBody(resourceVersion: string, edit: IngressEdit): Record<string, unknown> {
  const body: Record<string, unknown> = { metadata: { resourceVersion, annotations: edit.annotations } };
  if (edit.rules) body.spec = { rules: edit.rules };
  return body;
}

/** The server's own Status message when it sent one (e.g. `ingresses.networking.k8s.io "x" not found`). */
function statusMessage(err: ApiException<unknown>): string | undefined {
  const body = err.body;
  if (typeof body !== 'string' || body === '') return undefined;
  try {
    const status = JSON.parse(body) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : undefined;
  } catch {
    return body.slice(0, 300);
  }
}

function translate(err: unknown, verb: string, namespace: string, name: string, timeoutMs: number): Error {
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return new Error(`${verb} ingress ${namespace}/${name}: no answer from the Kubernetes API within ${timeoutMs} ms`);
  }
  if (!(err instanceof ApiException)) {
    return new Error(`${verb} ingress ${namespace}/${name}: ${(err as Error)?.message ?? String(err)}`);
  }
  const code = err.code as number;
  const detail = statusMessage(err) ?? `HTTP ${code}`;
  if (code === 404) return new IngressNotFoundError(`ingress.networking.k8s.io "${name}" not found`, code);
  if (code === 409) return new IngressConflictError(`${verb} ingress \`${name}\`: ${detail}`, code);
  const hint = code === 403 ? ' (grant the plugin get/patch on networking.k8s.io ingresses in this namespace)' : '';
  return new KubernetesApiError(`${verb} ingress \`${name}\`: ${detail}${hint}`, code);
}

/** The generated client hands back class instances (Dates and all); the core works on the JSON shape. */
function plain(obj: unknown): Ingress {
  return JSON.parse(JSON.stringify(obj)) as Ingress;
}

/** Below the default RPC deadline (25 s), so a hung API server fails the call instead of outliving it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Aborts each request after `ms`; the generated client has no timeout of its own. */
function timeoutOptions(ms: number): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export interface IngressClientOptions {
  /** Called on every 409 Conflict (for the conflicts metric). */
  onConflict?: () => void;
  requestTimeoutMs?: number;
}

export function createIngressClient(kc: KubeConfig, opts: IngressClientOptions = {}): IngressClient {
  const api = kc.makeApiClient(NetworkingV1Api);
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeout = timeoutOptions(timeoutMs);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch, timeout);
  return {
    async get(namespace, name) {
      try {
        return plain(await api.readNamespacedIngress({ name, namespace }, timeout));
      } catch (err) {
        throw translate(err, 'reading', namespace, name, timeoutMs);
      }
    },
    async patch(namespace, name, resourceVersion, edit) {
      try {
        const body = mergePatchBody(resourceVersion, edit);
        return plain(await api.patchNamespacedIngress({ name, namespace, body }, mergePatch));
      } catch (err) {
        const out = translate(err, 'error patching alb', namespace, name, timeoutMs);
        if (out instanceof IngressConflictError) opts.onConflict?.();
        throw out;
      }
    },
  };
}
