// Failures of the go-plugin layer above yamux and gob. A `SessionFatalError` means the session can no longer
// be trusted (its gob type tables or net/rpc framing are in an unknown state, or a stream it depends on is
// gone): the whole connection is closed so that the handshake child exits and Argo starts a fresh plugin,
// instead of keeping a dead Plugin stream behind a healthy Control.Ping (go-plugin's rpc_client.go; docs/plugin-protocol.md).

export class SessionFatalError extends Error {
  override readonly name: string = 'SessionFatalError';
}

/** A net/rpc request header that is not `Request{ServiceMethod string; Seq uint64}`. */
export class BadRequestHeaderError extends SessionFatalError {
  override readonly name = 'BadRequestHeaderError';
}

/** The 4-byte MuxBroker id on a dispensed stream was never handed out by Dispense (or was already used). */
export class UnknownBrokerIdError extends Error {
  override readonly name = 'UnknownBrokerIdError';
  constructor(readonly id: number) {
    super(`go-plugin broker: stream announced id ${id}, which Dispense never handed out (or it is already in use)`);
  }
}

/** A control or plugin stream ended or failed while the session was still in use. */
export class StreamLostError extends SessionFatalError {
  override readonly name = 'StreamLostError';
}

/** What a call that ran out of time answers with, in Argo's ErrorString (naming the setting that sets it). */
export function callTimeoutMessage(method: string, timeoutMs: number): string {
  const seconds = timeoutMs / 1000;
  return (
    `${method} did not finish within ${seconds}s (the sidecar's --rpc-timeout-seconds); ` +
    'the call is abandoned and Argo will retry on its next reconcile'
  );
}
