// The sidecar's own Kubernetes HTTP client: JSON requests and watch streams over node:http(s), for the
// handful of calls the plugin makes. @kubernetes/client-node's generated API classes pull in every model of
// the Kubernetes API (with its serializer, node-fetch and the auth plugins): about 36 MiB of resident memory
// for a process that reads a Lease, a few objects and writes merge patches (issue #20, bench footprint).
//
// Anything with the shape of `KubeAccess` can send requests: this module's in-cluster and JSON-kubeconfig
// loader (kube-config.ts), or client-node's `KubeConfig`, which covers every other kubeconfig (exec
// credential plugins, auth providers, proxies) and is what the tests hand in. Failures keep client-node's
// shapes, so the callers read them as before: an answer outside 2xx is an `ApiException` (code, body as the
// server's text, headers), an abort is an error named AbortError, a transport failure is Node's own error
// (`code` ECONNREFUSED and so on).

import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { USER_AGENT } from '../version.js';

/** Where requests go and how they authenticate; client-node's `KubeConfig` has this shape too. */
export interface KubeAccess {
  getCurrentCluster(): { readonly name: string; readonly server: string } | null;
  getCurrentContext(): string;
  /** Sets the agent (TLS: CA, client certificate) and the Authorization header on `opts`. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
  /** Told of every request this module sends, before it goes out (k8s/writes.ts counts the writes). */
  onRequest?: (method: string, path: string) => void;
}

/** An answer outside 2xx, shaped like client-node's ApiException (the callers read `code` and `body`). */
export class ApiException<T = unknown> extends Error {
  override name = 'ApiException';
  constructor(
    readonly code: number,
    message: string,
    readonly body: T,
    readonly headers: Record<string, string>,
  ) {
    super(`HTTP-Code: ${code}\nMessage: ${message}\nBody: ${JSON.stringify(body)}\nHeaders: ${JSON.stringify(headers)}`);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Per request: aborted after `timeoutMs` (counted from the moment it is sent) or when `signal` fires. */
export interface SendOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KubeRequest extends SendOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  /** Content-Type of the body: application/json unless a patch says which kind. */
  contentType?: string;
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

function url(kc: KubeAccess, path: string, query?: Query): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const u = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u;
}

function signalFor(opts: SendOptions): AbortSignal | undefined {
  const timeout = opts.timeoutMs !== undefined ? AbortSignal.timeout(opts.timeoutMs) : undefined;
  if (timeout && opts.signal) return AbortSignal.any([timeout, opts.signal]);
  return timeout ?? opts.signal;
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Sends one request; resolves with the response (its body not read yet). */
async function send(kc: KubeAccess, target: URL, method: string, headers: Record<string, string>, payload: string | undefined, signal: AbortSignal | undefined) {
  const opts: https.RequestOptions = { method, headers: {} };
  await kc.applyToHTTPSOptions(opts);
  opts.headers = { ...(opts.headers as Record<string, string>), ...headers, 'User-Agent': USER_AGENT };
  if (payload !== undefined) (opts.headers as Record<string, string | number>)['Content-Length'] = Buffer.byteLength(payload);
  signal?.throwIfAborted();
  kc.onRequest?.(method, target.pathname);
  const mod = target.protocol === 'http:' ? http : https;
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = mod.request(target, { ...opts, ...(signal ? { signal } : {}) }, resolve);
    req.on('error', reject);
    req.end(payload);
  });
}

async function readText(res: http.IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** One JSON request; resolves with the parsed answer, rejects with an ApiException outside 2xx. */
export async function kubeRequest<T = unknown>(kc: KubeAccess, req: KubeRequest): Promise<T> {
  const method = req.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  if (payload !== undefined) headers['Content-Type'] = req.contentType ?? 'application/json';
  const res = await send(kc, url(kc, req.path, req.query), method, headers, payload, signalFor(req));
  const text = await readText(res);
  const code = res.statusCode ?? 0;
  if (code >= 200 && code < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
  // client-node leaves the body out of a 401 ("Unauthorized"); any other code carries the server's text.
  if (code === 401) throw new ApiException(code, 'Unauthorized', undefined, flatHeaders(res.headers));
  throw new ApiException(code, 'Unknown API Status Code!', text, flatHeaders(res.headers));
}

/** A watch stream's end: `err` null when the server closed it, else why it ended (never called twice). */
export type WatchDone = (err: unknown) => void;

/**
 * GET `path?watch=true&…`: one callback per event line (type, object, the whole event) until the stream
 * ends, then `done` once. Resolves with the controller that ends the stream; like client-node's Watch, a
 * failure to connect or an answer other than 200 (an Error with `statusCode`) is reported through `done`.
 */
export async function kubeWatch(
  kc: KubeAccess,
  path: string,
  query: Query,
  callback: (type: string, object: unknown, event: unknown) => void,
  done: WatchDone,
): Promise<AbortController> {
  const controller = new AbortController();
  let doneCalled = false;
  const finish = (err: unknown): void => {
    if (doneCalled) return;
    doneCalled = true;
    controller.abort();
    done(err);
  };
  try {
    const res = await send(kc, url(kc, path, { ...query, watch: 'true' }), 'GET', { Accept: 'application/json' }, undefined, controller.signal);
    res.socket?.setKeepAlive(true, 30_000);
    if (res.statusCode !== 200) {
      res.resume();
      const err = new Error(res.statusMessage || http.STATUS_CODES[res.statusCode ?? 500] || 'Internal Server Error') as Error & { statusCode?: number };
      err.statusCode = res.statusCode;
      throw err;
    }
    res.on('error', finish);
    res.on('close', () => finish(null));
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    // readline re-emits the stream's errors (an abort, a reset connection) on the interface.
    lines.on('error', finish);
    lines.on('line', (line) => {
      let event: { type?: unknown; object?: unknown };
      try {
        event = JSON.parse(line) as { type?: unknown; object?: unknown };
      } catch {
        return; // ignore lines that are not JSON, as client-node does
      }
      callback(String(event.type), event.object, event);
    });
    lines.on('close', () => finish(null));
  } catch (err) {
    finish(err);
  }
  return controller;
}
