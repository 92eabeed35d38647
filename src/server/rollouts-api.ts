// Read-only JSON API over one Rollout's ALB state:
//   GET /api/v1/rollouts/:namespace/:name          report (cached ELBv2 data may be used)
//   GET /api/v1/rollouts/:namespace/:name/verify   fresh check, for an AnalysisTemplate `web` metric
// Both take `?ingress=<name>` (repeatable) for Rollouts that do not name Ingresses in the plugin block,
// which is how blue-green pre/post-promotion analysis points at its Ingress.

import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from './errors.js';
import type { RolloutReport } from '../plugin/report.js';
import type { RolloutReportSource } from './report.js';
import type { Rollout } from '../core/rollout.js';
import { usesPlugin } from '../core/plugin-block.js';

export interface RolloutsApiOptions {
  source: RolloutReportSource;
  pluginName: string;
  /** Deadline of one report, including the Rollout read and any ELBv2 calls. */
  reportTimeoutMs: number;
}

// Namespaces are DNS-1123 labels, Rollout names DNS-1123 subdomains; anything else cannot exist.
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface Params {
  namespace: string;
  name: string;
}

interface Query {
  ingress?: string | string[];
}

function ingressesFromQuery(q: Query): string[] {
  const raw = q.ingress === undefined ? [] : Array.isArray(q.ingress) ? q.ingress : [q.ingress];
  const names = raw.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!SUBDOMAIN.test(n)) {
      throw new ApiError('ALB_ERR_BAD_REQUEST', [`ingress: "${n}" is not a valid Ingress name`]);
    }
  }
  return [...new Set(names)];
}

function checkParams(p: Params): void {
  if (!LABEL.test(p.namespace)) {
    throw new ApiError('ALB_ERR_BAD_REQUEST', [`namespace: "${p.namespace}" is not a valid namespace name`]);
  }
  if (!SUBDOMAIN.test(p.name)) {
    throw new ApiError('ALB_ERR_BAD_REQUEST', [`name: "${p.name}" is not a valid Rollout name`]);
  }
}

async function withDeadline<T>(ms: number, what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctrl.abort();
      reject(new ApiError('ALB_ERR_TIMEOUT', [what, ms]));
    }, ms);
  });
  try {
    return await Promise.race([run(ctrl.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const rolloutsApi: FastifyPluginAsync<RolloutsApiOptions> = async (app, opts) => {
  const querySchema = {
    type: 'object',
    properties: { ingress: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } },
  } as const;

  async function serve(params: Params, query: Query, fresh: boolean): Promise<RolloutReport> {
    checkParams(params);
    const ingresses = ingressesFromQuery(query);
    const id = `${params.namespace}/${params.name}`;
    return withDeadline(opts.reportTimeoutMs, id, async (signal) => {
      let rollout: Rollout | undefined;
      try {
        rollout = await opts.source.getRollout(params.namespace, params.name, signal);
      } catch (err) {
        throw new ApiError('ALB_ERR_UPSTREAM', [id, err instanceof Error ? err.message : String(err)], { cause: err });
      }
      if (!rollout) throw new ApiError('ALB_ERR_ROLLOUT_NOT_FOUND', [id]);
      if (ingresses.length === 0 && !usesPlugin(rollout, opts.pluginName)) {
        throw new ApiError('ALB_ERR_ROLLOUT_NOT_MANAGED', [id, opts.pluginName]);
      }
      try {
        return await opts.source.report(rollout, { fresh, ingresses, signal });
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw new ApiError('ALB_ERR_UPSTREAM', [id, err instanceof Error ? err.message : String(err)], { cause: err });
      }
    });
  }

  app.get<{ Params: Params; Querystring: Query }>(
    '/api/v1/rollouts/:namespace/:name',
    { schema: { querystring: querySchema } },
    async (req) => serve(req.params, req.query, false),
  );
  app.get<{ Params: Params; Querystring: Query }>(
    '/api/v1/rollouts/:namespace/:name/verify',
    { schema: { querystring: querySchema } },
    async (req) => serve(req.params, req.query, true),
  );
  app.get('/api/v1', async () => ({
    routes: [
      'GET /api/v1/rollouts/:namespace/:name[?ingress=<name>]',
      'GET /api/v1/rollouts/:namespace/:name/verify[?ingress=<name>]',
    ],
  }));
};
