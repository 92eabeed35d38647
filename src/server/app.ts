// Builds the sidecar's HTTP app (health, readiness, metrics, read-only JSON API). Listening is the
// caller's job (`listenHttp`), so tests drive the app with `inject` and no socket.

import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { ApiError } from './errors.js';
import { healthRoutes, type ReadinessCheck } from './health.js';
import { metricsRoute } from './metrics-route.js';
import type { RolloutReportSource } from './report.js';
import { rolloutsApi } from './rollouts-api.js';

export interface ServerLimits {
  /** Largest request body accepted; the API is read-only, so this stays small. */
  bodyLimitBytes: number;
  /** Whole-request deadline enforced by Node's HTTP server. */
  requestTimeoutMs: number;
  /** Idle socket deadline. */
  connectionTimeoutMs: number;
  /** Deadline of one Rollout report (Kubernetes read plus ELBv2 calls); must be below requestTimeoutMs. */
  reportTimeoutMs: number;
  readinessTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  bodyLimitBytes: 16 * 1024,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 60_000,
  reportTimeoutMs: 20_000,
  readinessTimeoutMs: 3_000,
};

export interface ServerDeps {
  registry: Registry;
  readiness: readonly ReadinessCheck[];
  reports: RolloutReportSource;
  pluginName: string;
  logger?: Logger;
  limits?: Partial<ServerLimits>;
  /** Serve /api/ to other pods too (`--api-allow-remote`); default: loopback only. */
  apiAllowRemote?: boolean;
}

/** 127.0.0.0/8, ::1 and the IPv4-mapped form of both. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  // Typed as the default instance: a pino child logger is a FastifyBaseLogger, but the generic parameter
  // would otherwise leak into every plugin signature.
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger.child({ part: 'http' }) } : { logger: false }),
    bodyLimit: limits.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    // Probes and scrapes arrive every few seconds; logging each one would drown the useful lines.
    logController: new LogController({ disableRequestLogging: (req) => !req.url.startsWith('/api/') }),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send(err.toJSON());
    const e = err as { validation?: unknown; statusCode?: number; message?: string };
    if (e.validation || (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)) {
      return reply.code(e.statusCode ?? 400).send(new ApiError('ALB_ERR_BAD_REQUEST', [e.message ?? 'bad request']).toJSON());
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(new ApiError('ALB_ERR_INTERNAL', [e.message ?? 'unknown']).toJSON());
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(new ApiError('ALB_ERR_NOT_FOUND', [`${req.method} ${req.url.split('?')[0]}`]).toJSON()),
  );

  // The API reads Rollouts of every namespace and checks ELBv2 on demand: another pod must not be able to use it
  // to read the cluster's load balancers or to spend the ELBv2 quota. Health and metrics stay on the pod address.
  if (!deps.apiAllowRemote) {
    app.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/api/') && !isLoopback(req.socket.remoteAddress)) throw new ApiError('ALB_ERR_FORBIDDEN', [req.socket.remoteAddress ?? 'an unknown address']);
    });
  }
  app.register(healthRoutes, { checks: deps.readiness, checkTimeoutMs: limits.readinessTimeoutMs });
  app.register(metricsRoute, { registry: deps.registry });
  app.register(rolloutsApi, {
    source: deps.reports,
    pluginName: deps.pluginName,
    reportTimeoutMs: limits.reportTimeoutMs,
  });
  return app;
}

/** Splits the `host:port` setting (IPv6 hosts may be bracketed) and starts listening. */
export async function listenHttp(app: FastifyInstance, hostPort: string): Promise<string> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(hostPort.slice(i + 1));
  return app.listen({ host, port });
}
