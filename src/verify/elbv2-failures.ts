// Which ELBv2 failures pass by themselves, and how one reads in a report. A verification that failed for
// such a reason answers NotVerified without Err, so Argo asks again in 10 s (issue #12 item 6); anything else
// is a configuration error and is reported as one.
import { awsErrorCode, isNotFound, isThrottling, ThrottledError } from '../aws/elbv2.js';

/** AWS error codes of server-side trouble that passes by itself (5xx answers carry them). */
const TRANSIENT_CODES = new Set([
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
  'PriorRequestNotComplete',
  'TimeoutError',
  'AbortError',
]);
/** Network errors that say nothing about the configuration (a wrong endpoint gives ENOTFOUND or ECONNREFUSED). */
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * Whether an ELBv2 failure passes by itself: throttled past the retries, a 5xx answer, a timeout or reset
 * connection, or something that went away while we looked (NotFound: the next check looks it up again).
 * Everything else (AccessDenied, ValidationError, bad credentials, a wrong endpoint) is a configuration
 * error, and stays one until someone fixes it.
 */
export function isTransientElbv2Failure(err: unknown): boolean {
  if (err instanceof ThrottledError || isThrottling(err) || isNotFound(err)) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { $metadata?: { httpStatusCode?: number }; $fault?: unknown; code?: unknown; name?: unknown };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  const code = awsErrorCode(err);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  return typeof e.code === 'string' && TRANSIENT_NETWORK.has(e.code);
}

export interface Failure {
  text: string;
  transient: boolean;
}

export function errorText(err: unknown): string {
  // Only SDK errors carry an AWS code worth showing; a plain Error's name says nothing.
  const code = typeof err === 'object' && err !== null && '$metadata' in err ? awsErrorCode(err) : undefined;
  const msg = err instanceof Error ? err.message : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/**
 * A failure a check threw, as its report states it: transient when it passes by itself, or when the check's
 * `deadline` had fired (whatever the failure says, the check ran out of time).
 */
export function thrownFailure(err: unknown, deadline?: AbortSignal): { error: string; transient?: true } {
  const transient = deadline?.aborted === true || isTransientElbv2Failure(err);
  return { error: errorText(err), ...(transient ? { transient: true as const } : {}) };
}
