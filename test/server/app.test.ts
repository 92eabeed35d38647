import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer, DEFAULT_LIMITS, listenHttp, type ServerDeps } from '../../src/server/app.js';
import type { ReadinessCheck } from '../../src/server/health.js';
import { createMetrics } from '../../src/metrics.js';
import { VERSION } from '../../src/version.js';
import { blueGreenRollout, canaryRollout, fakeSource, PLUGIN, type FakeSource } from './fixtures.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function build(over: Partial<ServerDeps> & { source?: FakeSource } = {}): { app: FastifyInstance; source: FakeSource } {
  const source = over.source ?? fakeSource([canaryRollout('web'), blueGreenRollout('bg')]);
  const app = buildServer({
    registry: createMetrics().registry,
    readiness: [],
    reports: source,
    pluginName: PLUGIN,
    ...over,
  });
  apps.push(app);
  return { app, source };
}

const ok: ReadinessCheck = { name: 'plugin-listener', check: async () => {} };
const down: ReadinessCheck = {
  name: 'kubernetes',
  check: async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
  },
};
const hangs: ReadinessCheck = { name: 'kubernetes', check: () => new Promise<void>(() => {}) };

describe('health and readiness', () => {
  it('answers /healthz', async () => {
    const { app } = build();
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: VERSION });
  });

  it.each([
    { checks: [], status: 200, body: { status: 'ready', checks: [] } },
    { checks: [ok], status: 200, body: { status: 'ready', checks: [{ name: 'plugin-listener', ok: true }] } },
    {
      checks: [ok, down],
      status: 503,
      body: {
        status: 'not ready',
        checks: [
          { name: 'plugin-listener', ok: true },
          { name: 'kubernetes', ok: false, message: 'connect ECONNREFUSED 127.0.0.1:6443' },
        ],
      },
    },
  ])('/readyz with $checks.length checks answers $status', async ({ checks, status, body }) => {
    const { app } = build({ readiness: checks });
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual(body);
  });

  it('/readyz reports a check that never answers as not ready', async () => {
    const { app } = build({ readiness: [hangs], limits: { readinessTimeoutMs: 20 } });
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toEqual([{ name: 'kubernetes', ok: false, message: 'no answer within 20 ms' }]);
  });
});

describe('rollout report API', () => {
  it.each([
    { path: '/api/v1/rollouts/shop/web', fresh: false },
    { path: '/api/v1/rollouts/shop/web/verify', fresh: true },
  ])('$path serves a verified report (fresh=$fresh)', async ({ path, fresh }) => {
    const { app, source } = build();
    const res = await app.inject(path);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body.verified).toBe(true);
    expect(body.reasons).toEqual([]);
    expect(body.rollout).toEqual({ namespace: 'shop', name: 'web', strategy: 'canary', desiredWeight: 20 });
    expect(body.ingresses[0]).toMatchObject({
      name: 'app',
      loadBalancer: { name: 'k8s-shop-app-0123456789' },
      expectedWeights: { 'app-canary': 20, 'app-stable': 80 },
      actualWeights: { 'app-canary': 20, 'app-stable': 80 },
    });
    expect(body.targetGroups[0]).toMatchObject({ expectedTargets: 2, registeredTargets: 2, healthyTargets: 2 });
    expect(source.calls).toEqual([{ rollout: 'web', opts: { fresh, ingresses: [] } }]);
  });

  it('serves an unverified report with 200 so the analysis counts a failure, not an error', async () => {
    const source = fakeSource([canaryRollout('web')]);
    source.verified = false;
    const { app } = build({ source });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.verified).toBe(false);
    expect(body.reasons).toEqual(['Ingress app: canary weight 20 not yet set (current: 0)']);
    expect(body.ingresses[0].actualWeights).toEqual({ 'app-canary': 0, 'app-stable': 100 });
    expect(body.targetGroups[0]).toMatchObject({ healthyTargets: 1, verified: false });
  });

  it.each([
    { query: '?ingress=app', ingresses: ['app'] },
    { query: '?ingress=app&ingress=app-internal', ingresses: ['app', 'app-internal'] },
    { query: '?ingress=app,app-internal,app', ingresses: ['app', 'app-internal'] },
  ])('blue-green Rollout with $query checks $ingresses', async ({ query, ingresses }) => {
    const { app, source } = build();
    const res = await app.inject(`/api/v1/rollouts/shop/bg/verify${query}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().rollout.strategy).toBe('blueGreen');
    expect(source.calls).toEqual([{ rollout: 'bg', opts: { fresh: true, ingresses } }]);
  });

  it.each([
    {
      path: '/api/v1/rollouts/shop/missing',
      status: 404,
      code: 'ALB_ERR_ROLLOUT_NOT_FOUND',
      message: /^rollout shop\/missing not found/,
    },
    {
      path: '/api/v1/rollouts/other/web/verify',
      status: 404,
      code: 'ALB_ERR_ROLLOUT_NOT_FOUND',
      message: /^rollout other\/web not found/,
    },
    {
      path: '/api/v1/rollouts/shop/bg/verify',
      status: 404,
      code: 'ALB_ERR_ROLLOUT_NOT_MANAGED',
      message: /does not use the plugin "argoproj-labs\/alb".*\?ingress=<name>/,
    },
    {
      path: '/api/v1/rollouts/Shop/web',
      status: 400,
      code: 'ALB_ERR_BAD_REQUEST',
      message: /^namespace: "Shop" is not a valid namespace name$/,
    },
    {
      path: '/api/v1/rollouts/shop/web_1',
      status: 400,
      code: 'ALB_ERR_BAD_REQUEST',
      message: /^name: "web_1" is not a valid Rollout name$/,
    },
    {
      path: '/api/v1/rollouts/shop/bg?ingress=Bad!',
      status: 400,
      code: 'ALB_ERR_BAD_REQUEST',
      message: /^ingress: "Bad!" is not a valid Ingress name$/,
    },
    { path: '/api/v2/rollouts/shop/web', status: 404, code: 'ALB_ERR_NOT_FOUND', message: /^no route GET \/api\/v2/ },
  ])('$path answers $status $code', async ({ path, status, code, message }) => {
    const { app, source } = build();
    const res = await app.inject(path);
    expect(res.statusCode).toBe(status);
    const body = res.json();
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
    expect(source.calls).toEqual([]);
  });

  it('turns a failing report into 502 naming the Rollout and the cause', async () => {
    const source = fakeSource([canaryRollout('web')]);
    source.failWith = new Error('Throttling: Rate exceeded');
    const { app } = build({ source });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      error: {
        code: 'ALB_ERR_UPSTREAM',
        message: 'could not build the report for rollout shop/web: Throttling: Rate exceeded',
      },
    });
  });

  it('gives up on a report that outlives its deadline with 504 and aborts the work', async () => {
    const source = fakeSource([canaryRollout('web')]);
    source.hang = true;
    const { app } = build({ source, limits: { reportTimeoutMs: 20 } });
    const res = await app.inject('/api/v1/rollouts/shop/web/verify');
    expect(res.statusCode).toBe(504);
    expect(res.json().error).toEqual({
      code: 'ALB_ERR_TIMEOUT',
      message: 'the report for rollout shop/web took longer than 20 ms; try again',
    });
  });

  it('refuses writes: the API is read-only', async () => {
    const { app } = build();
    const res = await app.inject({ method: 'POST', url: '/api/v1/rollouts/shop/web', payload: { verified: true } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ALB_ERR_NOT_FOUND');
  });

  it('lists its routes at /api/v1', async () => {
    const { app } = build();
    const res = await app.inject('/api/v1');
    expect(res.json().routes).toHaveLength(2);
  });
});

describe('limits and listening', () => {
  it('sets body limit and timeouts', async () => {
    const { app } = build({ limits: { bodyLimitBytes: 1024 } });
    expect(app.initialConfig.bodyLimit).toBe(1024);
    expect(app.server.requestTimeout).toBe(DEFAULT_LIMITS.requestTimeoutMs);
    expect(app.server.timeout).toBe(DEFAULT_LIMITS.connectionTimeoutMs);
  });

  it('rejects a request body over the limit with 413', async () => {
    const { app } = build({ limits: { bodyLimitBytes: 64 } });
    // A route that parses bodies, registered only for this test, shows the limit applies before any handler.
    app.post('/echo', async (req) => req.body);
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { pad: 'x'.repeat(200) } });
    expect(res.statusCode).toBe(413);
  });

  it('listens on a host:port setting and serves over a real socket', async () => {
    const { app } = build();
    const address = await listenHttp(app, '127.0.0.1:0');
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${address}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('error catalogue', () => {
  it('is documented in docs/operations.md, code for code and status for status', async () => {
    const { readFileSync } = await import('node:fs');
    const { API_ERRORS } = await import('../../src/server/errors.js');
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(ALB_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows.sort()).toEqual(Object.entries(API_ERRORS).map(([code, spec]) => [code, spec.status]).sort());
  });
});

describe('listenerCheck', () => {
  it.each([
    [true, { name: 'plugin-listener', ok: true }],
    [false, { name: 'plugin-listener', ok: false, message: 'not listening on 127.0.0.1:3001' }],
  ])('ready()=%s', async (ready, want) => {
    const { listenerCheck } = await import('../../src/server/health.js');
    const { app } = build({ readiness: [listenerCheck('plugin-listener', { ready: () => ready, address: '127.0.0.1:3001' })] });
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(ready ? 200 : 503);
    expect(res.json().checks).toEqual([want]);
  });
});

// Issue #20: the JSON API reads Rollouts of every namespace and checks ELBv2 on demand; by default only the pod
// itself (loopback: the controller's AnalysisTemplate web metrics) may use it. Health and metrics stay open.
describe('who may use the JSON API', () => {
  it.each([
    ['127.0.0.1', undefined, 200],
    ['::1', undefined, 200],
    ['::ffff:127.0.0.1', undefined, 200],
    ['10.1.2.3', undefined, 403],
    ['::ffff:10.1.2.3', undefined, 403],
    ['10.1.2.3', true, 200],
  ] as const)('from %s (allow remote: %s) → %s', async (remoteAddress, allow, status) => {
    const { app } = build({ source: fakeSource([canaryRollout('web')]), ...(allow ? { apiAllowRemote: true } : {}) });
    const res = await app.inject({ url: '/api/v1/rollouts/shop/web', remoteAddress });
    expect(res.statusCode).toBe(status);
    if (status === 403) {
      expect(res.json()).toEqual({
        error: {
          code: 'ALB_ERR_FORBIDDEN',
          message: `the JSON API answers only from this pod (loopback), not from ${remoteAddress}; run the sidecar with --api-allow-remote to serve other pods`,
        },
      });
    }
    expect((await app.inject({ url: '/healthz', remoteAddress })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', remoteAddress })).statusCode).toBe(200);
  });
});
