// The composed sidecar in-process against a small fake API server on a loopback port: the HTTP server is up,
// ready once the plugin listener and Kubernetes answer, exposes the metrics, serves the JSON API (404 for
// an unknown Rollout), follows the controller's leader Lease (its Rollout watch starts once it leads) and
// shuts down cleanly.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSettings } from '../src/settings.js';
import { startSidecar, type Sidecar } from '../src/sidecar.js';
import { createLogger } from '../src/logger.js';
import { FOLLOW_TEST_LEASE, LEASE_PATH, liveLease } from './support/lease.js';

let kube: http.Server;
let dir: string;
let sidecar: Sidecar;
const seen: string[] = [];

beforeAll(async () => {
  kube = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.searchParams.get('watch') ? '?watch' : ''}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/version') return send(200, { major: '1', minor: '34', gitVersion: 'v1.34.0' });
    if (url.pathname === LEASE_PATH) return send(200, liveLease());
    if (url.pathname === '/apis/argoproj.io/v1alpha1/rollouts' && url.searchParams.get('watch')) {
      // An open watch with nothing to say; ended when the sidecar stops.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return;
    }
    if (url.pathname === '/apis/argoproj.io/v1alpha1/rollouts') return send(200, { kind: 'RolloutList', apiVersion: 'argoproj.io/v1alpha1', metadata: { resourceVersion: '1' }, items: [] });
    if (url.pathname === '/apis/networking.k8s.io/v1/ingresses') return send(200, { kind: 'IngressList', apiVersion: 'networking.k8s.io/v1', metadata: {}, items: [] });
    return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
  });
  await new Promise<void>((resolve) => kube.listen(0, '127.0.0.1', resolve));
  const port = (kube.address() as import('node:net').AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'alb-sidecar-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: t, user: {token: t}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n`,
  );
  const { settings } = parseSettings(['--kubeconfig', kubeconfig, '--plugin-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--aws-region', 'eu-west-1', ...FOLLOW_TEST_LEASE], {});
  sidecar = await startSidecar(settings, { logger: createLogger('silent') });
});

afterAll(async () => {
  await sidecar?.close();
  kube.closeAllConnections();
  await new Promise((resolve) => kube.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('composed sidecar', () => {
  it('serves health, readiness and metrics', async () => {
    expect(sidecar.httpAddress).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${sidecar.httpAddress}/healthz`)).status).toBe(200);
    const ready = await fetch(`${sidecar.httpAddress}/readyz`);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: [
        { name: 'plugin-listener', ok: true },
        { name: 'kubernetes', ok: true },
        { name: 'leadership', ok: true, detail: expect.stringMatching(/^(leader|standby): /) },
      ],
    });
    const metrics = await (await fetch(`${sidecar.httpAddress}/metrics`)).text();
    expect(metrics).toContain('# TYPE alb_plugin_rpc_calls_total counter');
    expect(metrics).toContain('# TYPE alb_plugin_plugin_sessions_open gauge');
    expect(metrics).toMatch(/^alb_plugin_leader [01]$/m);
    expect(metrics).toContain('alb_plugin_process_cpu_seconds_total');
  });

  it('answers 404 with a reason for a Rollout that does not exist', async () => {
    const res = await fetch(`${sidecar.httpAddress}/api/v1/rollouts/shop/nope/verify`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ALB_ERR_ROLLOUT_NOT_FOUND');
  });

  it('lists and watches Rollouts for the cleanup once it leads, and says so in /readyz and the gauge', async () => {
    await vi.waitFor(() => {
      expect(seen).toContain('GET /apis/argoproj.io/v1alpha1/rollouts');
      expect(seen).toContain('GET /apis/argoproj.io/v1alpha1/rollouts?watch');
    }, { timeout: 10_000 });
    // The Lease was read at least twice (a change of it proves its holder alive) before the first list.
    const firstList = seen.indexOf('GET /apis/argoproj.io/v1alpha1/rollouts');
    expect(seen.slice(0, firstList).filter((s) => s === `GET ${LEASE_PATH}`).length).toBeGreaterThanOrEqual(2);
    const ready = (await (await fetch(`${sidecar.httpAddress}/readyz`)).json()) as { checks: Array<{ name: string; detail?: string }> };
    expect(ready.checks.find((c) => c.name === 'leadership')?.detail).toMatch(/^leader: this pod's controller holds the Lease argo-rollouts\/argo-rollouts-controller-lock \(argo-rollouts-test-pod_/);
    expect(await (await fetch(`${sidecar.httpAddress}/metrics`)).text()).toMatch(/^alb_plugin_leader 1$/m);
  });
});
