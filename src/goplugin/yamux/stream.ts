// One yamux stream as a Node Duplex: its state machine (Go's stream.go states), both flow-control windows,
// FIN (half-close) and RST. The session routes frames here and owns the socket.
//
// Receive side: payloads go into a small queue of our own and are pushed into the Readable only while
// Node asks for more (`_read`). Bytes count as consumed once pushed, and window credit is returned for
// consumed bytes only (Go's rule: once at least half the maximum window can be returned). A consumer that
// stops reading therefore stops the peer after one window: per stream we hold at most the window plus
// one Readable high-water mark.
//
// Send side: a write is cut into Data frames no larger than the peer's current window, the rest waits for
// its WindowUpdate, and the write callback waits for the socket to drain, so Node backpressure reaches the
// writer instead of piling up in memory.

import { Duplex } from 'node:stream';
import { RecvWindowExceededError, SessionClosedError, StreamResetError, UnexpectedFrameError } from './errors.js';
import { Flag, FrameType, hasFlag, INITIAL_STREAM_WINDOW, type FrameHeader } from './frame.js';

export enum StreamState {
  /** Opened by us, SYN not yet sent. */
  Init = 'init',
  /** Opened by us, SYN sent, no ACK yet. */
  SYNSent = 'syn-sent',
  /** Opened by the peer, ACK not yet sent (only between the SYN and our immediate ACK). */
  SYNReceived = 'syn-received',
  Established = 'established',
  /** We sent FIN; the peer may still send. */
  LocalClose = 'local-close',
  /** The peer sent FIN; we may still send. */
  RemoteClose = 'remote-close',
  /** Both sides sent FIN. */
  Closed = 'closed',
  /** RST sent or received, or the session ended. */
  Reset = 'reset',
}

/** What a stream needs from its session. */
export interface StreamHost {
  readonly maxStreamWindow: number;
  /** After our FIN, how long we wait for the peer's before resetting the stream (0: forever). */
  readonly streamCloseTimeoutMs: number;
  readonly closed: boolean;
  /** Queues one frame on the socket (header and body written together). */
  sendFrame(type: FrameType, flags: number, streamId: number, length: number, body?: Buffer): void;
  /** Runs `fn` once the socket has room again (at once when it has); dropped if the session closes. */
  whenWritable(fn: () => void): void;
  /** The stream is finished (both FINs, or RST): forget its id. */
  forgetStream(stream: YamuxStream): void;
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  callback: (error?: Error | null) => void;
}

const READABLE_HIGH_WATER_MARK = 64 * 1024;

export class YamuxStream extends Duplex {
  private streamState: StreamState;
  /** Bytes the peer may still send us. */
  private recvWindow = INITIAL_STREAM_WINDOW;
  /** Bytes we may still send the peer. */
  private sendWindow = INITIAL_STREAM_WINDOW;
  private readonly recvQueue: Buffer[] = [];
  private recvQueued = 0;
  private wantRead = false;
  private remoteFin = false;
  private endPushed = false;
  private pendingWrite: PendingWrite | undefined;
  private reason: Error | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  /** @internal Created by YamuxSession only. */
  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    state: StreamState.Init | StreamState.SYNReceived,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: READABLE_HIGH_WATER_MARK, decodeStrings: true });
    this.streamState = state;
    // Streams are opened by the remote peer, and a peer reset or a dying session must never crash the
    // process because nobody (or only pipe(), which re-throws) listened: errors still reach every
    // listener, and `terminationReason` keeps them for code that only watches 'close'.
    this.on('error', ignoreError);
  }

  get state(): StreamState {
    return this.streamState;
  }

  /** Why the stream ended abnormally (reset, session closed), also when nobody listened for 'error'. */
  get terminationReason(): Error | undefined {
    return this.reason;
  }

  /** Received bytes not yet handed to the Readable (bounded by the window we grant). */
  get receiveQueuedBytes(): number {
    return this.recvQueued;
  }

  /** Our current send window: how much the peer lets us send before its next WindowUpdate. */
  get sendWindowBytes(): number {
    return this.sendWindow;
  }

  /** Abort the stream: sends RST (if the stream is still open) and destroys it. */
  reset(): void {
    this.destroy();
  }

  // ---- called by the session ------------------------------------------------------------------------

  /** @internal Sends our SYN (outbound) or ACK (inbound) right away, with any extra window we grant. */
  announce(): void {
    this.sendWindowUpdate(this.takeOpenFlag(), true);
  }

  /** @internal A Data or WindowUpdate frame for this stream. Throws a ProtocolError on a violation. */
  receive(header: FrameHeader, payload: Buffer): void {
    const isData = header.type === FrameType.Data;
    if (isData && payload.length > 0) {
      if (this.remoteFin) throw new UnexpectedFrameError(header, this.streamState);
      if (payload.length > this.recvWindow) {
        throw new RecvWindowExceededError(this.id, payload.length, this.recvWindow);
      }
    }
    this.receiveFlags(header);
    if (this.streamState === StreamState.Reset) return;

    if (isData && payload.length > 0) {
      this.recvWindow -= payload.length;
      this.recvQueue.push(payload);
      this.recvQueued += payload.length;
    }
    // FIN on either frame type ends the Readable once the queue is drained.
    if (payload.length > 0 || this.remoteFin) this.deliver();
    if (!isData && header.length > 0) {
      this.sendWindow += header.length;
      this.flushWrite();
    }
  }

  /** @internal The session is gone: no frames are sent any more. */
  abort(cause: Error): void {
    if (this.destroyed) return;
    this.streamState = StreamState.Reset;
    this.terminate(cause);
  }

  // ---- Duplex implementation ------------------------------------------------------------------------

  override _read(): void {
    this.wantRead = true;
    this.deliver();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const blocked = this.writeBlocker();
    if (blocked) {
      callback(blocked);
      return;
    }
    this.pendingWrite = { chunk, offset: 0, callback };
    this.flushWrite();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const blocked = this.writeBlocker();
    if (blocked) {
      callback(blocked);
      return;
    }
    const flags = this.takeOpenFlag() | Flag.FIN;
    if (this.streamState === StreamState.RemoteClose) {
      this.streamState = StreamState.Closed;
      this.host.forgetStream(this);
    } else {
      this.streamState = StreamState.LocalClose;
      // Go's StreamCloseTimeout: a peer that never sends its FIN must not hold the stream forever.
      const timeout = this.host.streamCloseTimeoutMs;
      if (timeout > 0) {
        this.closeTimer = setTimeout(() => this.destroy(), timeout);
        this.closeTimer.unref();
      }
    }
    this.host.sendFrame(FrameType.WindowUpdate, flags, this.id, 0);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.closeTimer);
    if (this.streamState !== StreamState.Closed && this.streamState !== StreamState.Reset) {
      this.streamState = StreamState.Reset;
      if (!this.host.closed) this.host.sendFrame(FrameType.WindowUpdate, Flag.RST, this.id, 0);
      this.host.forgetStream(this);
    }
    this.recvQueue.length = 0;
    this.recvQueued = 0;
    this.pendingWrite = undefined;
    callback(error);
  }

  // ---- internals ------------------------------------------------------------------------------------

  private receiveFlags(header: FrameHeader): void {
    const flags = header.flags;
    if (hasFlag(flags, Flag.ACK) && this.streamState === StreamState.SYNSent) {
      this.streamState = StreamState.Established;
    }
    if (hasFlag(flags, Flag.FIN)) {
      switch (this.streamState) {
        case StreamState.SYNSent:
        case StreamState.SYNReceived:
        case StreamState.Established:
          this.streamState = StreamState.RemoteClose;
          break;
        case StreamState.LocalClose:
          this.streamState = StreamState.Closed;
          clearTimeout(this.closeTimer);
          this.host.forgetStream(this);
          break;
        default:
          throw new UnexpectedFrameError(header, this.streamState);
      }
      this.remoteFin = true;
    }
    if (hasFlag(flags, Flag.RST)) {
      this.streamState = StreamState.Reset;
      this.host.forgetStream(this);
      this.terminate(new StreamResetError(this.id, true));
    }
  }

  /** Moves queued payloads into the Readable while it wants more, then returns credit for what moved. */
  private deliver(): void {
    while (this.wantRead && this.recvQueue.length > 0) {
      const chunk = this.recvQueue.shift()!;
      this.recvQueued -= chunk.length;
      this.wantRead = this.push(chunk);
    }
    if (this.recvQueued === 0 && this.remoteFin && !this.endPushed) {
      this.endPushed = true;
      this.push(null);
    }
    this.sendWindowUpdate(0, false);
  }

  /**
   * Go's rule (stream.sendWindowUpdate): the credit is what brings the peer back to the full window minus
   * what we still hold; it is sent when it is at least half the window, or when a flag must go out anyway.
   */
  private sendWindowUpdate(flags: number, force: boolean): void {
    if (this.remoteFin && !force) return;
    const max = this.host.maxStreamWindow;
    const delta = max - this.recvQueued - this.recvWindow;
    if (!force && delta < max / 2) return;
    const credit = Math.max(delta, 0);
    this.recvWindow += credit;
    this.host.sendFrame(FrameType.WindowUpdate, flags, this.id, credit);
  }

  /** The flag our first frame must carry: SYN when we open, ACK when we accept (Go's sendFlags). */
  private takeOpenFlag(): number {
    if (this.streamState === StreamState.Init) {
      this.streamState = StreamState.SYNSent;
      return Flag.SYN;
    }
    if (this.streamState === StreamState.SYNReceived) {
      this.streamState = StreamState.Established;
      return Flag.ACK;
    }
    return 0;
  }

  private flushWrite(): void {
    const pending = this.pendingWrite;
    if (pending === undefined) return;
    const { chunk } = pending;
    while (pending.offset < chunk.length) {
      if (this.sendWindow === 0) return; // resumed by the peer's WindowUpdate
      const n = Math.min(this.sendWindow, chunk.length - pending.offset);
      const body = pending.offset === 0 && n === chunk.length ? chunk : chunk.subarray(pending.offset, pending.offset + n);
      this.host.sendFrame(FrameType.Data, this.takeOpenFlag(), this.id, n, body);
      this.sendWindow -= n;
      pending.offset += n;
    }
    this.pendingWrite = undefined;
    this.host.whenWritable(() => pending.callback());
  }

  private writeBlocker(): Error | undefined {
    if (this.host.closed) return this.reason ?? new SessionClosedError();
    if (this.streamState === StreamState.Reset) return this.reason ?? new StreamResetError(this.id, false);
    return undefined;
  }

  /** Ends the stream abnormally; see the constructor for why this cannot crash the process. */
  private terminate(reason: Error): void {
    this.reason ??= reason;
    this.destroy(reason);
  }
}

function ignoreError(): void {}
