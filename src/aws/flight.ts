// One request shared by every caller that asks for the same thing while it runs. The request runs on its own
// signal, which fires only when every caller waiting for it has given up; each caller's own signal still ends
// its own wait at once. So one Rollout's deadline never fails another Rollout's verification that shares the
// request, and a request nobody waits for any more is cancelled (and hands its rate-limit token back).
import { abortReason } from './token-bucket.js';

export class Flight<T> {
  readonly promise: Promise<T>;
  private readonly controller = new AbortController();
  private waiters = 0;
  private settled = false;

  constructor(run: (signal: AbortSignal) => Promise<T>) {
    this.promise = run(this.controller.signal);
    this.promise.then(
      () => (this.settled = true),
      () => (this.settled = true),
    );
  }

  /** False once it was cancelled: a new caller starts a new request rather than sharing a failure. */
  get joinable(): boolean {
    return !this.controller.signal.aborted;
  }

  /** Waits for the result; `signal` ends this wait only (the last caller to leave cancels the request). */
  join(signal?: AbortSignal): Promise<T> {
    // A caller without a signal never leaves, so the request always runs to its end.
    this.waiters++;
    if (!signal) return this.promise;
    if (signal.aborted) {
      this.leave(signal);
      return Promise.reject(abortReason(signal));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.leave(signal);
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private leave(signal: AbortSignal): void {
    if (--this.waiters === 0 && !this.settled) this.controller.abort(abortReason(signal));
  }
}

/** At most one request per key at a time; concurrent callers with the same key share it. */
export class Flights<T> {
  private readonly running = new Map<string, Flight<T>>();

  run(key: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let flight = this.running.get(key);
    if (!flight?.joinable) {
      const started = new Flight(fn);
      this.running.set(key, started);
      const done = (): void => {
        if (this.running.get(key) === started) this.running.delete(key);
      };
      started.promise.then(done, done);
      flight = started;
    }
    return flight.join(signal);
  }
}
