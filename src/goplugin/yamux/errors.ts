// One class per way a yamux session or stream can fail. `goAwayCode` is what we tell the peer before we
// close the session because of this error (undefined: send nothing, e.g. the peer already went away).

import { GoAwayCode, stringifyHeader, type FrameHeader } from './frame.js';

export class YamuxError extends Error {
  constructor(
    message: string,
    readonly goAwayCode: GoAwayCode | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The peer broke the wire protocol; answered with GoAway(protocol error) and the session is closed. */
export class ProtocolError extends YamuxError {
  constructor(message: string) {
    super(`yamux protocol error: ${message}`, GoAwayCode.ProtocolError);
  }
}

/** A header whose version byte is not 0 (Go: ErrInvalidVersion). */
export class InvalidVersionError extends ProtocolError {
  constructor(readonly header: FrameHeader) {
    super(`invalid protocol version ${header.version} (only 0 exists) in ${stringifyHeader(header)}`);
  }
}

/** A header whose type is not Data, WindowUpdate, Ping or GoAway (Go: ErrInvalidMsgType). */
export class InvalidFrameTypeError extends ProtocolError {
  constructor(readonly header: FrameHeader) {
    super(`invalid frame type ${header.type} (0..3 exist) in ${stringifyHeader(header)}`);
  }
}

/** A Data frame declaring more payload than any stream window could ever allow; refused before buffering. */
export class FrameTooLargeError extends ProtocolError {
  constructor(
    readonly header: FrameHeader,
    readonly maxLength: number,
  ) {
    super(`data frame of ${header.length} bytes exceeds the largest stream window (${maxLength}): ${stringifyHeader(header)}`);
  }
}

/** More Data on a stream than the window we granted (Go: ErrRecvWindowExceeded). */
export class RecvWindowExceededError extends ProtocolError {
  constructor(
    readonly streamId: number,
    readonly length: number,
    readonly window: number,
  ) {
    super(`receive window exceeded on stream ${streamId}: ${length} bytes sent, ${window} granted`);
  }
}

/** A SYN for a stream that is still open (Go: ErrDuplicateStream). */
export class DuplicateStreamError extends ProtocolError {
  constructor(readonly streamId: number) {
    super(`duplicate stream ${streamId} initiated`);
  }
}

/** A frame naming a stream id that cannot be valid: wrong parity, reused, never opened, or 0 for a stream frame. */
export class InvalidStreamIdError extends ProtocolError {
  constructor(
    readonly header: FrameHeader,
    reason: string,
  ) {
    super(`${reason}: ${stringifyHeader(header)}`);
  }
}

/** A flag or frame that is not allowed in the stream's state, e.g. a second FIN or Data after FIN (Go: ErrUnexpectedFlag). */
export class UnexpectedFrameError extends ProtocolError {
  constructor(
    readonly header: FrameHeader,
    state: string,
  ) {
    super(`unexpected ${stringifyHeader(header)} in stream state ${state}`);
  }
}

/**
 * The peer sent GoAway. Code 0 (normal) only stops new streams (openStream throws this); any other code
 * ends the session, and we do not answer it.
 */
export class GoAwayReceivedError extends YamuxError {
  constructor(readonly remoteCode: number) {
    super(
      remoteCode === GoAwayCode.Normal
        ? 'yamux: remote end is not accepting new streams (GoAway normal)'
        : `yamux: remote end closed the session with GoAway code ${remoteCode} (${goAwayName(remoteCode)})`,
      undefined,
    );
  }
}

/** Our keepalive ping was not answered in time; the peer is presumed dead (Go: ErrKeepAliveTimeout). */
export class KeepAliveTimeoutError extends YamuxError {
  constructor(readonly timeoutMs: number) {
    super(`yamux: keepalive ping not answered within ${timeoutMs} ms`, GoAwayCode.InternalError);
  }
}

/** The operation needs an open session; `cause` is the reason the session closed, if it had one. */
export class SessionClosedError extends YamuxError {
  constructor(cause?: Error) {
    super(cause ? `yamux: session closed: ${cause.message}` : 'yamux: session closed', undefined, cause ? { cause } : undefined);
  }
}

/** The stream was reset (RST), by the peer or by us (Go: ErrConnectionReset). */
export class StreamResetError extends YamuxError {
  constructor(
    readonly streamId: number,
    readonly byPeer: boolean,
  ) {
    super(`yamux: stream ${streamId} reset by ${byPeer ? 'peer' : 'us'}`, undefined);
  }
}

function goAwayName(code: number): string {
  switch (code) {
    case GoAwayCode.ProtocolError:
      return 'protocol error';
    case GoAwayCode.InternalError:
      return 'internal error';
    default:
      return 'unknown code';
  }
}
