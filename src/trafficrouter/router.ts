import type { Rollout, SetHeaderRoute, SetMirrorRoute, WeightDestination } from '../core/rollout.js';

/** Argo's `types.RpcVerified`: the values travel as int32 on the wire. */
export enum RpcVerified {
  NotVerified = 0,
  Verified = 1,
  NotImplemented = 2,
}

export interface VerifyWeightResult {
  verified: RpcVerified;
  /** Non-empty only when something failed; Argo turns it into a `WeightVerifyError` event. */
  err?: string;
}

/**
 * One method per Argo traffic-router RPC verb. Every method takes the Rollout as Argo sent it, already
 * converted to the Kubernetes JSON shape. Failures are thrown as `Error`s whose message is what Argo
 * shows the user (`failed to set weight via plugin: <message>`), so messages name the field and the fix.
 *
 * `call` is the RPC call the method runs for (absent outside an RPC: HTTP API, cleanup, tests). Once its
 * signal fires, a method writes nothing more.
 */
export interface TrafficRouter {
  /** Called once per plugin session. */
  initPlugin(call?: CallContext): Promise<void>;
  type(): string;
  updateHash(
    rollout: Rollout,
    canaryHash: string,
    stableHash: string,
    additionalDestinations: WeightDestination[],
    call?: CallContext,
  ): Promise<void>;
  setWeight(rollout: Rollout, desiredWeight: number, additionalDestinations: WeightDestination[], call?: CallContext): Promise<void>;
  verifyWeight(
    rollout: Rollout,
    desiredWeight: number,
    additionalDestinations: WeightDestination[],
    call?: CallContext,
  ): Promise<VerifyWeightResult>;
  setHeaderRoute(rollout: Rollout, headerRoute: SetHeaderRoute, call?: CallContext): Promise<void>;
  setMirrorRoute(rollout: Rollout, mirrorRoute: SetMirrorRoute, call?: CallContext): Promise<void>;
  removeManagedRoutes(rollout: Rollout, call?: CallContext): Promise<void>;
}

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

/**
 * Runs work one at a time per key, in the order it arrives: one Rollout's calls to one Ingress (or one
 * listener rule) apply in order, a later call waiting for the earlier. A call whose signal fires while it
 * waits gives up its turn without running. Keys are dropped once idle.
 */
export class SerialQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // The next caller waits for everything before this one too, even if this one gives up early.
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    try {
      await untilAborted(before, signal);
      return await work();
    } finally {
      release();
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    }
  }

  /** Keys with work running or waiting (tests, metrics). */
  get size(): number {
    return this.tails.size;
  }
}

/** Resolves with `p`, or rejects with the signal's reason as soon as it fires. */
function untilAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(cancelled(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(cancelled(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function cancelled(signal: AbortSignal): CallCancelledError {
  return new CallCancelledError(`gave up waiting for an earlier call on the same object: ${abortReason(signal)}`);
}

/**
 * What the router reports back as its `Type()`. Argo logs it (`Reconciling TrafficRouting with type ...`);
 * the built-in router says `ALB`, so this must differ for an operator to tell the two apart.
 */
export const ROUTER_TYPE = 'ALBPlugin';

/** Plugin name used when the sidecar is not told otherwise (the key under `trafficRouting.plugins`). */
export const DEFAULT_PLUGIN_NAME = 'argoproj-labs/alb';

/**
 * The verbs every mode answers without work: InitPlugin (nothing to set up per session), Type, and
 * UpdateHash (neither an Ingress action nor a listener rule names pod hashes).
 */
export const IDLE_VERBS: Pick<TrafficRouter, 'initPlugin' | 'type' | 'updateHash'> = {
  async initPlugin() {},
  type: () => ROUTER_TYPE,
  async updateHash() {},
};
