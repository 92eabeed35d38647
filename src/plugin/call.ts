// ---------------------------------------------------------------------------------------------------------
// One RPC call's deadline, and the budget of the work inside it.
//
// The net/rpc server (src/goplugin/netrpc/server.ts) answers every call by its deadline D
// (`--rpc-timeout-seconds`, 25 s by default) and at that moment fires the call's signal; it fires it too
// when the session closes, since nobody is left to read the answer. Argo moves on after the answer: the
// next reconcile may already send a newer SetWeight (the abort's SetWeight(0), say). A call whose signal
// has fired must therefore never write again, or its stale weight would overwrite the newer one; the
// routers check the signal before every write, also after each re-read on a 409 Conflict.
//
// The work inside one call is budgeted so that every inner step ends, with its own error, before D:
//   * R = min(1 s, 10 % of D) is kept for answering;
//   * the final-switch guard (src/verify/guard.ts) gets at most 40 % of D (10 s of 25) and no more than
//     what is left before D − R; past that it holds the switch with a reason;
//   * each Kubernetes request gets at most its own timeout (15 s, src/k8s/ingress-client.ts) and no more
//     than what is left before D − R, so the guard plus every read and write of a call, 409 retries
//     included, end by D − R;
//   * ELBv2 requests of listener-rule mode get the call's signal with the same bound.
// Without a call (HTTP API, cleanup) the steps keep their own timeouts.
// ---------------------------------------------------------------------------------------------------------

export interface CallContext {
  /** Fires at the deadline, or when the session that sent the call is gone. */
  signal: AbortSignal;
  /** `Date.now()` at which the call is answered as timed out (and `signal` fires). */
  deadline: number;
  /** The whole deadline, `--rpc-timeout-seconds` in ms (budget shares are taken of it). */
  timeoutMs: number;
}

/** Share of the deadline the final-switch guard may use. */
export const GUARD_SHARE = 0.4;

/** Time kept back for answering: inner steps end this long before the deadline. */
export function answerReserveMs(call: CallContext): number {
  return Math.min(1000, call.timeoutMs * 0.1);
}

/** Milliseconds an inner step may still take: at most `capMs`, and never past the deadline minus the reserve. */
export function stepBudgetMs(call: CallContext | undefined, capMs: number, now = Date.now()): number {
  if (!call) return capMs;
  return Math.min(capMs, Math.max(0, call.deadline - answerReserveMs(call) - now));
}

/**
 * A signal for the requests of one call: fires with the call's own signal, or when the call's budget is
 * spent (its deadline minus the time to answer), with a reason that says so.
 */
export function stepSignal(call: CallContext, capMs = call.timeoutMs): AbortSignal {
  const ms = stepBudgetMs(call, capMs);
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new Error(`no answer within ${ms} ms, the time left before the plugin call's deadline (--rpc-timeout-seconds)`)),
    ms,
  );
  timer.unref();
  const onAbort = () => {
    clearTimeout(timer);
    ac.abort(call.signal.reason);
  };
  if (call.signal.aborted) onAbort();
  else call.signal.addEventListener('abort', onAbort, { once: true });
  return ac.signal;
}

/** The call ran past its deadline (or its session closed) before this point: nothing more is written. */
export class CallCancelledError extends Error {
  override name = 'CallCancelledError';
}

/** Why a signal fired, as text. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the call was cancelled';
}

/** Throws CallCancelledError once the call's signal has fired; `what` says what is not done. */
export function throwIfCancelled(call: CallContext | undefined, what: string): void {
  const signal = call?.signal;
  if (signal?.aborted) throw new CallCancelledError(`${what} not done: ${abortReason(signal)}`);
}

