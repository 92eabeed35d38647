import { abortReason, CallCancelledError } from './call.js';

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

