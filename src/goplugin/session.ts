// One controller connection, scripted like go-plugin's RPCServer.ServeConn (rpc_server.go): a yamux server;
// the first stream the client opens is the control stream (net/rpc: Control, Dispenser), the next two are the
// plugin's stdout/stderr copies (kept open and idle), and every later one is a broker stream carrying the
// dispensed `Plugin` service. Streams are told apart by arrival order, as Go does, not by id.
//
// Anything that makes the session untrustworthy (undecodable gob, a bad header, a lost control or plugin
// stream) closes the whole connection, so the handshake child exits and Argo starts a new plugin.

import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';
import type { TrafficRouter } from '../plugin/router.js';
import type { MetricProvider } from '../plugin/metric-provider.js';
import { acceptBrokerStream, BrokerIds } from './broker.js';
import { controlMethods, DISPENSE_NAME, METRIC_PROVIDER_DISPENSE_NAME } from './control.js';
import type { ArgConverters } from './args.js';
import { pluginMethods } from './dispatch.js';
import { metricProviderMethods } from './metric-dispatch.js';
import { serveNetRpc, type CallOutcome, type NetRpcServer } from './netrpc/server.js';
import { YamuxSession, type YamuxSessionOptions, type YamuxStream } from './yamux/index.js';

/**
 * How long a session whose peer is leaving (Control.Quit answered, or a stream closed cleanly) stays up for
 * the peer to close it. go-plugin's Kill closes the control, std and broker streams and then the session
 * after Quit returns; if we dropped the connection first, one of those closes would fail and go-plugin would
 * SIGKILL the child instead of letting it exit.
 */
export const CLOSE_GRACE_MS = 500;

export interface SessionDeps {
  router: TrafficRouter;
  converters: ArgConverters;
  /** Served as RpcMetricProviderPlugin when given; Dispense refuses that name otherwise. */
  metricProvider?: MetricProvider;
  callTimeoutMs: number;
  logger: Logger;
  onCall?(method: string, outcome: CallOutcome, seconds: number): void;
  yamux?: Omit<YamuxSessionOptions, 'logger'>;
  /** Default CLOSE_GRACE_MS. */
  closeGraceMs?: number;
}

export class PluginSession {
  /** Resolves once the connection is gone, with the reason when it was not a clean end. */
  readonly closed: Promise<Error | undefined>;
  private readonly yamux: YamuxSession;
  private readonly servers: NetRpcServer[] = [];
  private readonly brokerIds = new BrokerIds();
  private streamsSeen = 0;
  private readonly logger: Logger;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Duplex,
    private readonly deps: SessionDeps,
  ) {
    this.logger = deps.logger;
    this.yamux = new YamuxSession(socket, { ...deps.yamux, logger: deps.logger });
    this.closed = new Promise((resolve) => {
      this.yamux.once('close', (err) => {
        clearTimeout(this.closeTimer);
        for (const s of this.servers) s.stop();
        if (err) this.logger.warn({ err }, 'plugin session closed');
        else this.logger.debug('plugin session closed');
        resolve(err);
      });
    });
    this.yamux.on('stream', (stream) => this.onStream(stream));
  }

  /** Ends the session (GoAway, then the socket is closed). */
  close(error?: Error): void {
    this.yamux.close(error);
  }

  /** The peer is leaving cleanly: let it close first, close ourselves after CLOSE_GRACE_MS. */
  private closeSoon(): void {
    if (this.closeTimer || this.yamux.closed) return;
    this.closeTimer = setTimeout(() => this.close(), this.deps.closeGraceMs ?? CLOSE_GRACE_MS);
  }

  /** A stream stopped: at once on an error (the session cannot be trusted), after the grace period on a clean end. */
  private onStreamStop(err: Error | undefined): void {
    if (err) this.close(err);
    else this.closeSoon();
  }

  private onStream(stream: YamuxStream): void {
    this.streamsSeen++;
    if (this.streamsSeen === 1) this.serveControl(stream);
    else if (this.streamsSeen <= 3) this.keepIdle(stream);
    else this.serveBroker(stream);
  }

  private serveControl(stream: YamuxStream): void {
    const methods = controlMethods({
      brokerIds: this.brokerIds,
      plugins: new Set(this.deps.metricProvider ? [DISPENSE_NAME, METRIC_PROVIDER_DISPENSE_NAME] : [DISPENSE_NAME]),
      quit: () => {
        this.logger.info('Control.Quit: closing the plugin session');
        this.closeSoon();
      },
    });
    this.servers.push(
      serveNetRpc(stream, {
        methods,
        callTimeoutMs: this.deps.callTimeoutMs,
        logger: this.logger,
        onCall: this.deps.onCall,
        onStop: (err) => this.onStreamStop(err),
      }),
    );
  }

  /** stdout/stderr copies: we have nothing to send; answer their FIN with ours. */
  private keepIdle(stream: YamuxStream): void {
    stream.on('error', () => {});
    stream.on('end', () => stream.end());
    stream.resume();
  }

  private serveBroker(stream: YamuxStream): void {
    acceptBrokerStream(stream, this.brokerIds).then(
      ({ id, plugin, rest }) => {
        this.logger.debug({ brokerId: id, plugin }, 'plugin stream attached');
        const { metricProvider } = this.deps;
        this.servers.push(
          serveNetRpc(stream, {
            methods:
              plugin === METRIC_PROVIDER_DISPENSE_NAME && metricProvider
                ? metricProviderMethods(metricProvider)
                : pluginMethods(this.deps.router, this.deps.converters),
            callTimeoutMs: this.deps.callTimeoutMs,
            logger: this.logger,
            onCall: this.deps.onCall,
            initial: rest,
            onStop: (err) => this.onStreamStop(err),
          }),
        );
      },
      (err: unknown) => {
        // A stray broker stream is refused on its own (go-plugin drops it too); the session goes on.
        this.logger.warn({ err }, 'refusing broker stream');
        stream.reset();
      },
    );
  }
}
