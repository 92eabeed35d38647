// Go's net/rpc server loop on one stream: read Request header + body pairs, run each call concurrently, and
// write each Response header + body as soon as that call finishes (Go's client matches replies by Seq, so
// completion order is fine). Every call has a deadline, because Go's net/rpc has none and an unanswered call
// hangs a controller worker for good. At the deadline the call is answered and its signal fires, so the work
// behind it stops before writing anything more (Argo may already be sending a newer call); the signal fires
// too when the stream stops, since nobody is left to read the answer.

import type { Duplex } from 'node:stream';
import type { Logger } from '../../logger.js';
import type { GobValue } from '../gob/values.js';
import { callTimeoutMessage, StreamLostError } from '../errors.js';
import { ServerCodec, type RpcRequest } from './codec.js';
import { EMPTY_REPLY, replyFailed, type Reply } from './reply.js';

export type CallOutcome = 'ok' | 'error' | 'timeout';

/** What `onCall` reports for a method this server does not have. */
export const UNKNOWN_METHOD = 'unknown';

/** What a running call knows about its deadline (the routers' CallContext has the same shape). */
export interface RpcCall {
  /** Fires at the deadline (reason: the timeout message) or when the stream stops. */
  signal: AbortSignal;
  /** `Date.now()` at which the call is answered as timed out. */
  deadline: number;
  /** The call timeout in ms. */
  timeoutMs: number;
}

export interface RpcMethod {
  /** Runs the call. A thrown error becomes a net/rpc error (Response.Error) with its message. */
  handle(body: GobValue, call?: RpcCall): Promise<Reply> | Reply;
  /**
   * The reply when the deadline passes first; absent: a net/rpc error carrying the timeout message. Gets the
   * call's arguments and deadline too, for replies that echo part of them (a measurement keeps its start).
   */
  onTimeout?(message: string, body?: GobValue, call?: RpcCall): Reply;
  /** Runs once the reply has been handed to the stream (Control.Quit closes the session here). */
  afterReply?(): void;
}

/** Methods by their wire name, `"Service.Method"`. */
export type MethodTable = ReadonlyMap<string, RpcMethod>;

export interface NetRpcServerOptions {
  methods: MethodTable;
  callTimeoutMs: number;
  logger: Logger;
  /**
   * The stream can no longer be used: undecodable input, a broken stream, or the peer closed it.
   * `error` is undefined when the peer simply closed. Called at most once.
   */
  onStop(error: Error | undefined): void;
  onCall?(method: string, outcome: CallOutcome, seconds: number): void;
  /** Bytes of the stream that were already read by someone else (the broker's id exchange). */
  initial?: Buffer;
}

export interface NetRpcServer {
  /** Calls started but not answered yet. */
  readonly pending: number;
  /** Stops reading; replies of calls still running are dropped. */
  stop(): void;
}

/** net/rpc's own messages (net/rpc/server.go), so Argo's logs read the same as with a Go plugin. */
function lookupError(serviceMethod: string, methods: MethodTable): string {
  const dot = serviceMethod.lastIndexOf('.');
  if (dot < 0) return `rpc: service/method request ill-formed: ${serviceMethod}`;
  const service = serviceMethod.slice(0, dot);
  for (const name of methods.keys()) {
    if (name.slice(0, name.lastIndexOf('.')) === service) return `rpc: can't find method ${serviceMethod}`;
  }
  return `rpc: can't find service ${serviceMethod}`;
}

/**
 * Response.Error text. Never empty: Go's client takes "" for success and would then decode our empty-struct
 * placeholder as the real reply, which fails and shuts that client down for good (go-plugin's rpc_client.go; docs/plugin-protocol.md).
 */
function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text === '' ? 'plugin call failed without a message' : text;
}

export function serveNetRpc(stream: Duplex, opts: NetRpcServerOptions): NetRpcServer {
  const codec = new ServerCodec();
  const { logger } = opts;
  let stopped = false;
  /** Deadline timers of calls still running, cleared when the stream stops. */
  const timers = new Set<NodeJS.Timeout>();
  /** Signals of calls still running; fired when the stream stops. */
  const running = new Set<AbortController>();

  const stop = (error: Error | undefined): void => {
    if (stopped) return;
    stopped = true;
    stream.off('data', onData);
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const gone = new Error('the plugin session closed before the call finished; nothing more is written for it');
    for (const c of running) c.abort(gone);
    running.clear();
    opts.onStop(error);
  };

  const send = (req: RpcRequest, error: string, reply: Reply, after?: () => void): void => {
    if (stopped || stream.destroyed || !stream.writable) return;
    // Encoded and written in one synchronous step: type definitions must reach Go in the order this
    // stream's encoder emitted them, and each reply must be contiguous on the stream.
    let bytes: Buffer;
    try {
      bytes = codec.encodeResponse(req.serviceMethod, req.seq, error, error === '' ? reply : EMPTY_REPLY);
    } catch (err) {
      stop(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    stream.write(bytes, after ? () => after() : undefined);
  };

  const run = (req: RpcRequest): void => {
    const method = opts.methods.get(req.serviceMethod);
    if (!method) {
      // The body has been decoded (and dropped) already, so the stream stays in step.
      const message = lookupError(req.serviceMethod, opts.methods);
      logger.warn({ method: req.serviceMethod }, message);
      send(req, message, EMPTY_REPLY);
      // A fixed name: method names from the wire must not grow the metrics' label set.
      opts.onCall?.(UNKNOWN_METHOD, 'error', 0);
      return;
    }
    const started = performance.now();
    const controller = new AbortController();
    running.add(controller);
    const call: RpcCall = { signal: controller.signal, deadline: Date.now() + opts.callTimeoutMs, timeoutMs: opts.callTimeoutMs };
    let settled = false;
    const finish = (outcome: CallOutcome, error: string, reply: Reply): void => {
      if (settled) {
        running.delete(controller);
        const detail = error || ('errorString' in reply ? reply.errorString : '');
        logger.info({ method: req.serviceMethod, seq: String(req.seq), outcome, error: detail || undefined }, 'result of a timed-out call dropped');
        return;
      }
      settled = true;
      clearTimeout(timer);
      timers.delete(timer);
      const seconds = (performance.now() - started) / 1000;
      // Argo shows the message as an Event; the sidecar's log says which call failed and why, once per call.
      if (outcome === 'error') {
        const detail = error || ('errorString' in reply ? reply.errorString : '');
        logger.warn({ method: req.serviceMethod, seq: String(req.seq), error: detail || undefined }, 'plugin call failed');
      }
      send(req, error, reply, method.afterReply);
      opts.onCall?.(req.serviceMethod, outcome, seconds);
      // A timed-out call keeps its controller until its work has ended, so a stopping stream still reaches it.
      if (outcome !== 'timeout') running.delete(controller);
    };
    const timer = setTimeout(() => {
      const message = callTimeoutMessage(req.serviceMethod, opts.callTimeoutMs);
      logger.warn({ method: req.serviceMethod, seq: String(req.seq), timeoutMs: opts.callTimeoutMs }, 'plugin call timed out');
      if (method.onTimeout) finish('timeout', '', method.onTimeout(message, req.body, call));
      else finish('timeout', message, EMPTY_REPLY);
      // Answered: whatever the work behind the call still does must not write any more.
      controller.abort(new Error(message));
    }, opts.callTimeoutMs);
    timers.add(timer);

    Promise.resolve()
      .then(() => method.handle(req.body, call))
      .then(
        (reply) => finish(replyFailed(reply) ? 'error' : 'ok', '', reply),
        (err: unknown) => finish('error', errorText(err), EMPTY_REPLY),
      );
  };

  const onData = (chunk: Buffer): void => {
    if (stopped) return;
    let requests: RpcRequest[];
    try {
      requests = codec.feed(chunk);
    } catch (err) {
      stop(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    for (const req of requests) run(req);
  };

  stream.on('data', onData);
  stream.on('end', () => stop(undefined));
  stream.on('error', (err: Error) => stop(new StreamLostError(`stream failed: ${err.message}`, { cause: err })));
  stream.on('close', () => stop(undefined));
  if (opts.initial && opts.initial.length > 0) onData(opts.initial);
  stream.resume();

  return {
    get pending() {
      return timers.size;
    },
    stop: () => stop(undefined),
  };
}
