// A simulated clock for the client's token bucket (src/aws/token-bucket.ts), so a cold round that takes minutes at
// `--aws-rate-limit` 2/s runs in seconds with its real ELBv2 calls: time stands still while anything can still run
// (a request is out, a promise chain or a setImmediate is pending) and jumps to the next sleeper's wake-up only
// when nothing else can happen. Requests take no simulated time; only waiting for tokens (and backoff) does.
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { abortReason, type Clock } from '../src/aws/token-bucket.js';

interface Sleeper {
  at: number;
  wake(): void;
}

/** setImmediate turns with nothing happening before time moves: covers chains that hop through a macrotask. */
const IDLE_TURNS = 5;

export class SimulatedClock implements Clock {
  private t = 0;
  private sleepers: Sleeper[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleTurns = 0;

  now = (): number => this.t;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const sleeper: Sleeper = {
        at: this.t + ms,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal!));
        this.kick();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
      this.kick();
    });

  /** The SDK client with every request counted as "out" until it settles (time does not move meanwhile). */
  track(client: ElasticLoadBalancingV2Client): ElasticLoadBalancingV2Client {
    const send = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { send: (...args: unknown[]) => Promise<unknown> }).send = (...args) => {
      this.inFlight++;
      this.kick();
      return send(...args).finally(() => {
        this.inFlight--;
        this.kick();
      });
    };
    return client;
  }

  private kick(): void {
    this.idleTurns = 0;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.step());
  }

  private step(): void {
    this.scheduled = false;
    if (this.inFlight > 0 || this.sleepers.length === 0) return;
    if (++this.idleTurns < IDLE_TURNS) {
      this.scheduled = true;
      setImmediate(() => this.step());
      return;
    }
    this.idleTurns = 0;
    this.t = Math.max(this.t, Math.min(...this.sleepers.map((s) => s.at)));
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.wake();
    this.kick();
  }
}
