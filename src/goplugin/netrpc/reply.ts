// The reply bodies this server ever sends. Each maps to one fixed gob type (plugin-protocol.md §6.7), so
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
  | { kind: 'weightUpdateDeadline'; errorString: string };

export const EMPTY_REPLY: Reply = { kind: 'empty' };

/** True when the reply reports a failure to Argo (a non-empty ErrorString). */
export function replyFailed(reply: Reply): boolean {
  return (reply.kind === 'rpcError' || reply.kind === 'verifyWeight' || reply.kind === 'weightUpdateDeadline') && reply.errorString !== '';
}
