// The server side of a yamux session (hashicorp/yamux v0.1.2 wire format) over one socket: frame dispatch,
// stream ids, ping, keepalive and GoAway. Per-stream state and windows live in stream.ts.
//
// What go-plugin's client needs from us (go-plugin's rpc_client.go and mux_broker.go; docs/plugin-protocol.md): every stream it opens is ACKed at
// once, including the stdout/stderr streams that never carry data (else the client drops the session after
// its 75 s StreamOpenTimeout); pings are answered; window credit keeps flowing; we never send more than
// its window. Anything we cannot trust closes the whole session with GoAway(protocol error), so the
// controller restarts the plugin instead of talking to half a session.

import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FrameDecoder } from './decoder.js';
import {
  DuplicateStreamError,
  GoAwayReceivedError,
  InvalidStreamIdError,
  KeepAliveTimeoutError,
  SessionClosedError,
  YamuxError,
} from './errors.js';
import {
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  hasFlag,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  MAX_U32,
  type FrameHeader,
} from './frame.js';
import { StreamState, YamuxStream, type StreamHost } from './stream.js';

/** Subset of pino's Logger. */
export interface YamuxLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface YamuxSessionOptions {
  /**
   * Receive window we grant per stream, in bytes. Default and minimum 262144 (256 KiB, the protocol's
   * initial window); larger values are granted with the ACK.
   */
  maxStreamWindow?: number;
  /** Send our own ping this often to detect a dead peer; 0 disables. Default 30000 (Go's KeepAliveInterval). */
  keepaliveIntervalMs?: number;
  /** A ping not answered within this closes the session (keepalive) or rejects `ping()`. Default 10000. */
  pingTimeoutMs?: number;
  /** Open streams allowed at once; a SYN beyond this is refused with RST (Go's AcceptBacklog). Default 256. */
  maxStreams?: number;
  /** Stop reading the socket while more than this many bytes wait to be written to it. Default 4 MiB. */
  maxOutputBuffer?: number;
  /** After our FIN, how long to wait for the peer's FIN before resetting the stream; 0 waits forever. Default 300000 (Go's StreamCloseTimeout). */
  streamCloseTimeoutMs?: number;
  /** How long `close()` lets the GoAway frame flush before destroying the socket. Default 2000. */
  closeTimeoutMs?: number;
  logger?: YamuxLogger;
}

type ResolvedOptions = Required<Omit<YamuxSessionOptions, 'logger'>> & { logger: YamuxLogger | undefined };

export interface YamuxSessionEvents {
  /** A stream the peer opened; already ACKed. */
  stream: [stream: YamuxStream];
  /** Emitted once. `error` is undefined for a clean end (we or the peer closed normally). */
  close: [error: Error | undefined];
}

interface PendingPing {
  started: number;
  timer: NodeJS.Timeout;
  resolve: (rttMs: number) => void;
  reject: (error: Error) => void;
}

/** Ids of recently finished streams kept to recognise reuse; older ones fall back to Go's leniency. */
const CLOSED_IDS_REMEMBERED = 1024;
/** Bodies up to this size are copied behind the header (one small write beats a corked pair). */
const COALESCE_LIMIT = 4096;

export function resolveYamuxOptions(options: YamuxSessionOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    maxStreamWindow: options.maxStreamWindow ?? INITIAL_STREAM_WINDOW,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 30_000,
    pingTimeoutMs: options.pingTimeoutMs ?? 10_000,
    maxStreams: options.maxStreams ?? 256,
    maxOutputBuffer: options.maxOutputBuffer ?? 4 * 1024 * 1024,
    streamCloseTimeoutMs: options.streamCloseTimeoutMs ?? 300_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
    logger: options.logger,
  };
  checkInteger('maxStreamWindow', resolved.maxStreamWindow, INITIAL_STREAM_WINDOW, MAX_U32);
  checkInteger('keepaliveIntervalMs', resolved.keepaliveIntervalMs, 0, 2 ** 31 - 1);
  checkInteger('pingTimeoutMs', resolved.pingTimeoutMs, 1, 2 ** 31 - 1);
  checkInteger('maxStreams', resolved.maxStreams, 1, 1 << 20);
  checkInteger('maxOutputBuffer', resolved.maxOutputBuffer, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('streamCloseTimeoutMs', resolved.streamCloseTimeoutMs, 0, 2 ** 31 - 1);
  checkInteger('closeTimeoutMs', resolved.closeTimeoutMs, 0, 2 ** 31 - 1);
  return resolved;
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`yamux option ${field} must be an integer from ${min} to ${max} (got ${value}); fix it or leave it unset for the default`);
  }
}

/**
 * The server end of a yamux session. Streams the peer opens are ACKed immediately and emitted as
 * 'stream' (a Node Duplex); 'close' is emitted exactly once, with the reason.
 *
 * Usage: `const s = new YamuxSession(socket); s.on('stream', st => ...); s.on('close', err => ...)`.
 * A stream the peer half-closes ends its Readable; call `stream.end()` to send our FIN.
 */
export class YamuxSession extends EventEmitter<YamuxSessionEvents> implements StreamHost {
  readonly maxStreamWindow: number;
  readonly streamCloseTimeoutMs: number;
  private readonly options: ResolvedOptions;
  private readonly decoder: FrameDecoder;
  private readonly streams = new Map<number, YamuxStream>();
  private readonly closedIds = new Set<number>();
  private readonly closedIdOrder: number[] = [];
  private highestRemoteId = 0;
  private nextLocalId = 2;
  private localGoAway = false;
  private remoteGoAway = false;
  private isClosed = false;
  private reason: Error | undefined;
  private drainWaiters: Array<() => void> = [];
  private readonly pings = new Map<number, PendingPing>();
  private nextPingId = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private inputPaused = false;

  constructor(
    private readonly socket: Duplex,
    options?: YamuxSessionOptions,
  ) {
    super();
    this.options = resolveYamuxOptions(options);
    this.maxStreamWindow = this.options.maxStreamWindow;
    this.streamCloseTimeoutMs = this.options.streamCloseTimeoutMs;
    this.decoder = new FrameDecoder((header, payload) => this.handleFrame(header, payload), this.maxStreamWindow);

    // yamux does its own framing; Nagle would hold back a small reply behind an unacknowledged segment.
    if (socket instanceof Socket) socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('end', () => this.shutdown(undefined, false));
    socket.on('error', (error: Error) => this.shutdown(error, false));
    socket.on('close', () => this.shutdown(undefined, false));
    this.scheduleKeepalive();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Why the session closed (undefined while open or after a clean close). */
  get closeError(): Error | undefined {
    return this.reason;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Ends the session: sends GoAway (normal without `error`; the error's code for a YamuxError; internal
   * error for anything else), fails every open stream and closes the socket.
   */
  close(error?: Error): void {
    this.shutdown(error, true);
  }

  /** Tells the peer we accept no new streams (GoAway normal); existing streams carry on. */
  goAway(): void {
    if (this.isClosed || this.localGoAway) return;
    this.localGoAway = true;
    this.sendFrame(FrameType.GoAway, 0, 0, GoAwayCode.Normal);
  }

  /** Opens a stream from our side (even ids). The peer may send data before it ACKs. */
  openStream(): YamuxStream {
    if (this.isClosed) throw new SessionClosedError(this.reason);
    if (this.remoteGoAway) throw new GoAwayReceivedError(GoAwayCode.Normal);
    const id = this.nextLocalId;
    if (id >= MAX_U32 - 1) throw new YamuxError('yamux: stream ids exhausted', undefined);
    this.nextLocalId += 2;
    const stream = new YamuxStream(this, id, StreamState.Init);
    this.streams.set(id, stream);
    stream.announce();
    return stream;
  }

  /** Round-trip time of one ping, in ms. Rejects after `pingTimeoutMs` or when the session closes. */
  ping(): Promise<number> {
    if (this.isClosed) return Promise.reject(new SessionClosedError(this.reason));
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 1) >>> 0;
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(new KeepAliveTimeoutError(this.options.pingTimeoutMs));
      }, this.options.pingTimeoutMs);
      timer.unref();
      this.pings.set(id, { started: performance.now(), timer, resolve, reject });
      this.sendFrame(FrameType.Ping, Flag.SYN, 0, id);
    });
  }

  // ---- StreamHost -----------------------------------------------------------------------------------

  /** @internal */
  sendFrame(type: FrameType, flags: number, streamId: number, length: number, body?: Buffer): void {
    const socket = this.socket;
    if (this.isClosed || !socket.writable) return;
    if (body === undefined || body.length === 0) {
      socket.write(encodeHeader(type, flags, streamId, length));
    } else if (body.length <= COALESCE_LIMIT) {
      const frame = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
      encodeHeader(type, flags, streamId, length, frame);
      body.copy(frame, HEADER_LENGTH);
      socket.write(frame);
    } else {
      socket.cork();
      socket.write(encodeHeader(type, flags, streamId, length));
      socket.write(body);
      socket.uncork();
    }
    // Control frames (ACKs, pongs, window updates) are written without waiting; if the peer does not
    // read them, stop reading what provokes them instead of buffering without bound.
    if (!this.inputPaused && socket.writableLength > this.options.maxOutputBuffer) {
      this.inputPaused = true;
      socket.pause();
    }
  }

  /** @internal */
  whenWritable(fn: () => void): void {
    if (this.isClosed) return;
    if (this.socket.writableNeedDrain) this.drainWaiters.push(fn);
    else fn();
  }

  /** @internal */
  forgetStream(stream: YamuxStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.rememberClosedId(stream.id);
  }

  // ---- input ----------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    // Everything this chunk provokes (ACKs, pongs, window updates, replies written synchronously by
    // stream handlers) leaves in one write.
    this.socket.cork();
    try {
      this.decoder.push(chunk);
    } catch (error) {
      this.shutdown(error instanceof Error ? error : new Error(String(error)), true);
    } finally {
      this.socket.uncork();
    }
  }

  private onDrain(): void {
    if (this.inputPaused && this.socket.writableLength <= this.options.maxOutputBuffer) {
      this.inputPaused = false;
      this.socket.resume();
    }
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
  }

  private handleFrame(header: FrameHeader, payload: Buffer): void {
    if (this.isClosed) return;
    switch (header.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        this.handleStreamFrame(header, payload);
        return;
      case FrameType.Ping:
        this.handlePing(header);
        return;
      case FrameType.GoAway:
        this.handleGoAway(header);
        return;
    }
  }

  private handleStreamFrame(header: FrameHeader, payload: Buffer): void {
    const id = header.streamId;
    if (id === 0) throw new InvalidStreamIdError(header, 'stream frame on stream 0, which is reserved for the session');
    if (hasFlag(header.flags, Flag.SYN) && !this.acceptStream(header)) return;

    const stream = this.streams.get(id);
    if (stream !== undefined) {
      stream.receive(header, payload);
      return;
    }
    if (!this.wasOpened(id)) throw new InvalidStreamIdError(header, 'frame for a stream that was never opened');
    // A stream we reset or finished; the peer may not know yet (Go discards these too).
    this.options.logger?.debug({ streamId: id, length: header.length }, 'yamux: discarding frame for a closed stream');
  }

  /** Registers a stream the peer opened and ACKs it; false when we refused it with RST. */
  private acceptStream(header: FrameHeader): boolean {
    const id = header.streamId;
    if (id % 2 === 0) throw new InvalidStreamIdError(header, 'the client opened an even stream id (clients use odd ids)');
    if (this.streams.has(id)) throw new DuplicateStreamError(id);
    if (this.closedIds.has(id)) throw new InvalidStreamIdError(header, 'the client reused the id of a finished stream');
    if (id > this.highestRemoteId) this.highestRemoteId = id;

    if (this.localGoAway || this.streams.size >= this.options.maxStreams) {
      this.options.logger?.warn(
        { streamId: id, open: this.streams.size, goAway: this.localGoAway },
        'yamux: refusing new stream (going away or too many streams)',
      );
      this.sendFrame(FrameType.WindowUpdate, Flag.RST, id, 0);
      this.rememberClosedId(id);
      return false;
    }
    const stream = new YamuxStream(this, id, StreamState.SYNReceived);
    this.streams.set(id, stream);
    stream.announce();
    this.emit('stream', stream);
    return true;
  }

  private wasOpened(id: number): boolean {
    return id % 2 === 1 ? id <= this.highestRemoteId : id < this.nextLocalId;
  }

  private rememberClosedId(id: number): void {
    if (this.closedIds.has(id)) return;
    this.closedIds.add(id);
    this.closedIdOrder.push(id);
    if (this.closedIdOrder.length > CLOSED_IDS_REMEMBERED) this.closedIds.delete(this.closedIdOrder.shift()!);
  }

  private handlePing(header: FrameHeader): void {
    if (hasFlag(header.flags, Flag.SYN)) {
      this.sendFrame(FrameType.Ping, Flag.ACK, 0, header.length);
      return;
    }
    if (!hasFlag(header.flags, Flag.ACK)) return;
    const pending = this.pings.get(header.length);
    if (pending === undefined) return; // late or unsolicited: Go ignores it too
    this.pings.delete(header.length);
    clearTimeout(pending.timer);
    pending.resolve(performance.now() - pending.started);
  }

  private handleGoAway(header: FrameHeader): void {
    if (header.length === GoAwayCode.Normal) {
      this.remoteGoAway = true;
      return;
    }
    this.shutdown(new GoAwayReceivedError(header.length), false);
  }

  // ---- keepalive and shutdown -----------------------------------------------------------------------

  private scheduleKeepalive(): void {
    const interval = this.options.keepaliveIntervalMs;
    if (interval === 0 || this.isClosed) return;
    this.keepaliveTimer = setTimeout(() => {
      this.ping().then(
        () => this.scheduleKeepalive(),
        (error: Error) => {
          if (!this.isClosed) {
            this.options.logger?.warn({ err: error }, 'yamux: keepalive failed, closing the session');
            this.shutdown(error, true);
          }
        },
      );
    }, interval);
    this.keepaliveTimer.unref();
  }

  private shutdown(error: Error | undefined, tellPeer: boolean): void {
    if (this.isClosed) return;
    const socket = this.socket;
    if (tellPeer && !socket.destroyed && socket.writable) {
      const code = error === undefined ? GoAwayCode.Normal : error instanceof YamuxError ? error.goAwayCode : GoAwayCode.InternalError;
      if (code !== undefined) socket.write(encodeHeader(FrameType.GoAway, 0, 0, code));
    }
    this.isClosed = true;
    this.reason = error;
    clearTimeout(this.keepaliveTimer);
    this.drainWaiters = [];

    const closedError = new SessionClosedError(error);
    for (const ping of this.pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(closedError);
    }
    this.pings.clear();
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.abort(closedError);

    if (!socket.destroyed) {
      const timer = setTimeout(() => socket.destroy(), this.options.closeTimeoutMs);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
      if (socket.writable) socket.end(() => socket.destroy());
      else socket.destroy();
    }
    if (error !== undefined && !(error instanceof GoAwayReceivedError)) {
      this.options.logger?.debug({ err: error }, 'yamux: session closed');
    }
    this.emit('close', error);
  }
}
