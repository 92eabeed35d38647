// The go-plugin (netrpc) listener of the sidecar. Each accepted connection is one controller session (through
// the handshake child's 1:1 proxy); several may be open at once (one per plugin name, plus old ones Argo
// has not noticed are dead yet), and probe connections that close without a byte are fine.

import net from 'node:net';
import type { Logger } from '../logger.js';
import type { TrafficRouter } from '../plugin/router.js';
import type { MetricProvider } from '../plugin/metric-provider.js';
import { rolloutArgConverters, type ArgConverters } from './args.js';
import type { CallOutcome } from './netrpc/server.js';
import { PluginSession } from './session.js';
import type { YamuxSessionOptions } from './yamux/index.js';

export interface PluginServerHooks {
  /**
   * After every answered call; `method` is the wire name, e.g. `Plugin.SetWeight`, `Control.Ping`, or
   * `unknown` for a method we do not serve.
   */
  onCall?(method: string, outcome: CallOutcome, seconds: number): void;
  onSessionOpen?(): void;
  onSessionClose?(): void;
}

export interface PluginServerOptions {
  /** host:port; port 0 picks a free one (see `address`). */
  listen: string;
  router: TrafficRouter;
  /** Served on the same listener as RpcMetricProviderPlugin when given (Argo's metricprovider plugins). */
  metricProvider?: MetricProvider;
  callTimeoutMs: number;
  logger: Logger;
  hooks?: PluginServerHooks;
  /** Go tree → JSON shape of the arguments; the Rollout conversion of rollout-json.ts by default. */
  converters?: ArgConverters;
  /** yamux tuning, e.g. a short keepalive in tests. */
  yamux?: Omit<YamuxSessionOptions, 'logger'>;
  /** How long a session whose peer is leaving waits for it to close the connection (session.ts). */
  closeGraceMs?: number;
}

export interface PluginServer {
  /** The bound host:port. */
  address: string;
  /** Stops listening and closes every session. */
  close(): Promise<void>;
  /** True while listening. */
  ready(): boolean;
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m || m[1] === '') throw new Error(`plugin listen address "${listen}" is not host:port (for example 127.0.0.1:3001)`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(m[2]) };
}

export async function startPluginServer(opts: PluginServerOptions): Promise<PluginServer> {
  const { host, port } = splitHostPort(opts.listen);
  const converters = opts.converters ?? rolloutArgConverters;
  const sessions = new Set<PluginSession>();
  let nextSessionId = 1;
  let listening = false;

  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setKeepAlive(true);
    const logger = opts.logger.child({ session: nextSessionId++, peer: `${socket.remoteAddress}:${socket.remotePort}` });
    const session = new PluginSession(socket, {
      router: opts.router,
      metricProvider: opts.metricProvider,
      converters,
      callTimeoutMs: opts.callTimeoutMs,
      logger,
      onCall: opts.hooks?.onCall,
      yamux: opts.yamux,
      closeGraceMs: opts.closeGraceMs,
    });
    sessions.add(session);
    logger.debug('plugin session opened');
    opts.hooks?.onSessionOpen?.();
    void session.closed.then(() => {
      sessions.delete(session);
      opts.hooks?.onSessionClose?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  listening = true;
  server.on('error', (err) => opts.logger.error({ err }, 'plugin listener failed'));
  const bound = server.address() as net.AddressInfo;
  const address = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  opts.logger.info({ address }, 'go-plugin listener ready');

  return {
    address,
    ready: () => listening,
    close: async () => {
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const all = [...sessions];
      for (const s of all) s.close();
      await Promise.all(all.map((s) => s.closed));
      await closed;
    },
  };
}
