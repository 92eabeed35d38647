// The loop both AWS clients put around every SDK send (src/aws/elbv2.ts, src/analysis/cloudwatch.ts), each with
// its own token bucket: a token per attempt, every attempt counted through the client's `onCall` hook, retries
// with full-jitter backoff on throttling only, and the AbortSignal ending the wait for a token, the backoff sleep
// and the request in flight. The SDK clients run with maxAttempts 1, so this loop is the only one. Also here:
// how an SDK error is told apart (throttled, not found), which both clients and their callers use.

import { USER_AGENT } from '../version.js';
import { currentBudget } from './budget.js';
import { abortReason, realClock, TokenBucket, type Clock } from './token-bucket.js';

/** Outcome label of one HTTP attempt, as counted by `onCall` (and exported as a metric label). */
export type CallOutcome = 'success' | 'throttled' | 'not_found' | 'error';

export interface CallOptions {
  /** Ends waiting for tokens, backoff sleeps and the request in flight. */
  signal?: AbortSignal;
  /**
   * Called right before each HTTP attempt is sent, after its token (src/aws/discovery.ts dates a shared read by
   * when it was sent, not when it was queued behind the rate limit).
   */
  onSend?(): void;
}

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
]);

/** The AWS error code of an SDK error (`LoadBalancerNotFound`, `Throttling`, ...), if it has one. */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown };
  const raw = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : undefined;
  // Modelled errors are named `<Code>Exception` by the JS SDK; the wire code has no suffix.
  return raw?.replace(/Exception$/, '') || undefined;
}

export function isThrottling(err: unknown): boolean {
  const code = awsErrorCode(err);
  if (code !== undefined && (THROTTLING_CODES.has(code) || THROTTLING_CODES.has(`${code}Exception`))) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 429;
}

export function isNotFound(err: unknown): boolean {
  const code = awsErrorCode(err);
  return code !== undefined && /NotFound$/.test(code);
}

function outcomeOf(err: unknown): CallOutcome {
  if (isThrottling(err)) return 'throttled';
  if (isNotFound(err)) return 'not_found';
  return 'error';
}

/** The SDK client settings of both clients: region and endpoint when given, the SDK's own retries off. */
export function sdkClientConfig(opts: { region?: string; endpoint?: string }): {
  region?: string;
  endpoint?: string;
  maxAttempts: number;
  customUserAgent: string;
} {
  return {
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    // The loop below is the only one, so call counts and the token bucket see every attempt.
    maxAttempts: 1,
    // Appended to the SDK's own User-Agent, so CloudTrail and the account's request logs name the plugin.
    customUserAgent: USER_AGENT,
  };
}

/** Raised when every attempt was throttled; the message says so plainly (for the Rollout's events, the analysis). */
export class AwsThrottledError extends Error {
  constructor(service: string, operation: string, attempts: number, cause: unknown) {
    super(`${service} ${operation} was throttled ${attempts} times in a row (Rate exceeded); giving up for now`, { cause });
  }
}

/** The retry settings of a client (both clients' options carry them). */
export interface RetryingSendOptions {
  /** Requests per second (token refill). */
  rateLimit: number;
  rateBurst: number;
  /** Called once per HTTP attempt, retries included. */
  onCall?(operation: string, outcome: CallOutcome): void;
  /** Attempts per request when throttled (default 6). */
  maxAttempts?: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs * 2^attempt) (defaults 200 and 5000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Buckets of their own for calls made inside `inBudget(name, …)` (budget.ts); other calls use the client's. */
  budgets?: Record<string, { rateLimit: number; rateBurst: number }>;
}

/** Sends one request (`run`, given the signal to pass to the SDK) through the bucket and the retries. */
export type RetryingSend = <O>(operation: string, run: (signal?: AbortSignal) => Promise<O>, o?: CallOptions) => Promise<O>;

/**
 * A client's send loop, with a token bucket of its own. `Throttled` is the error once every attempt was
 * throttled (each client's own, naming its service).
 */
export function retryingSend(
  opts: RetryingSendOptions,
  Throttled: new (operation: string, attempts: number, cause: unknown) => AwsThrottledError,
): RetryingSend {
  const clock = opts.clock ?? realClock;
  const random = opts.random ?? Math.random;
  const bucket = new TokenBucket(opts.rateLimit, opts.rateBurst, clock);
  const lanes = new Map(Object.entries(opts.budgets ?? {}).map(([name, b]) => [name, new TokenBucket(b.rateLimit, b.rateBurst, clock)]));
  const maxAttempts = opts.maxAttempts ?? 6;
  const baseDelay = opts.baseDelayMs ?? 200;
  const maxDelay = opts.maxDelayMs ?? 5000;

  return async function send<O>(operation: string, run: (signal?: AbortSignal) => Promise<O>, o?: CallOptions): Promise<O> {
    const signal = o?.signal;
    for (let attempt = 0; ; attempt++) {
      const lane = currentBudget();
      await (lane !== undefined ? (lanes.get(lane) ?? bucket) : bucket).take(signal);
      o?.onSend?.();
      try {
        const out = await run(signal);
        opts.onCall?.(operation, 'success');
        return out;
      } catch (err) {
        if (signal?.aborted) {
          opts.onCall?.(operation, 'error');
          throw abortReason(signal);
        }
        opts.onCall?.(operation, outcomeOf(err));
        if (!isThrottling(err)) throw err;
        if (attempt + 1 >= maxAttempts) throw new Throttled(operation, attempt + 1, err);
        await clock.sleep(random() * Math.min(maxDelay, baseDelay * 2 ** attempt), signal);
      }
    }
  };
}
