import type { GoMeasurement } from '../gob/encoder.js';

// The reply bodies this server ever sends. Each maps to one fixed gob type (docs/plugin-protocol.md), so
// the set is closed: a reply Go's net/rpc client cannot decode would silently kill that client for good.

export type Reply =
  /** `struct{}`: Control.Ping / Control.Quit, and the placeholder body of every net/rpc error. */
  | { kind: 'empty' }
  /** `uint32`: the broker id Dispenser.Dispense returns. */
  | { kind: 'uint'; value: number }
  /** `string`: Plugin.Type. */
  | { kind: 'string'; value: string }
  /** Argo's `types.RpcError{ErrorString}`; "" means success. */
  | { kind: 'rpcError'; errorString: string }
  /** Argo's `VerifyWeightResponse{Verified RpcVerified; Err RpcError}`. */
  | { kind: 'verifyWeight'; verified: number; errorString: string }
  /**
   * Argo's `WeightUpdateDeadlineResponse{Deadline *time.Time; Err RpcError}` (Argo master, after v1.10).
   * Deadline is always nil: this plugin never delays a weight update, so none is ever pending.
   */
  | { kind: 'weightUpdateDeadline'; errorString: string }
  /** Argo's `v1alpha1.Measurement`: the metric provider's Run, Resume and Terminate. */
  | { kind: 'measurement'; value: GoMeasurement }
  /** `map[string]string`: the metric provider's GetMetadata (an `error` entry reports a failure to Argo). */
  | { kind: 'stringMap'; value: Readonly<Record<string, string>> };

export const EMPTY_REPLY: Reply = { kind: 'empty' };

/**
 * True when the reply reports a failure to Argo: a non-empty ErrorString, a measurement in phase Error, or
 * metadata with an `error` entry (what Argo's metric client reads as a failure, metricproviders/plugin/rpc).
 */
export function replyFailed(reply: Reply): boolean {
  switch (reply.kind) {
    case 'rpcError':
    case 'verifyWeight':
    case 'weightUpdateDeadline':
      return reply.errorString !== '';
    case 'measurement':
      return reply.value.Phase === 'Error';
    case 'stringMap':
      return (reply.value.error ?? '') !== '';
    default:
      return false;
  }
}
