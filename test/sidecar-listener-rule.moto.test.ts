// The composed sidecar in-process with a listener-rule Rollout: a small fake API server on a loopback port
// (Rollouts, TargetGroupBindings) and a real moto_server behind `--aws-endpoint`. SetWeight through the
// router the go-plugin server dispatches to moves the driven rule; the ELBv2 calls show in /metrics; the
// JSON API reports the rule; and a DELETED watch event makes the sidecar's own cleanup put the rule back
// to 100 % stable. This proves the wiring of src/sidecar.ts, not only its parts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createLogger } from '../src/logger.js';
import { parseSettings } from '../src/settings.js';
import { startSidecar, type Sidecar } from '../src/sidecar.js';
import type { Rollout } from '../src/core/rollout.js';
import { RpcVerified } from '../src/plugin/router.js';
import { FOLLOW_TEST_LEASE, LEASE_PATH, liveLease } from './support/lease.js';
import { elbv2Client, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './support/moto.js';
import { NS, rollout, ruleByArn, seed, weightsOf, type Fixture } from './modes/listener-rule/fixtures.js';

let moto: Moto;
let direct: ElasticLoadBalancingV2Client;
let fx: Fixture;
let kube: http.Server;
let dir: string;
let sidecar: Sidecar;
let ro: Rollout;
const watches: http.ServerResponse[] = [];
const seen: string[] = [];
const savedEnv = { ...process.env };

function kubeServer(): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${url.pathname}${url.searchParams.get('watch') ? '?watch' : ''}`);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const p = url.pathname;
    if (p === '/version') return send(200, { major: '1', minor: '34', gitVersion: 'v1.34.0' });
    // This sidecar's controller leads: its Rollout watch starts after the second read.
    if (p === LEASE_PATH) return send(200, liveLease());
    if (p === '/apis/argoproj.io/v1alpha1/rollouts' && url.searchParams.get('watch')) {
      // Held open; the test writes watch events into it.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watches.push(res);
      return;
    }
    if (p === '/apis/argoproj.io/v1alpha1/rollouts') {
      return send(200, { kind: 'RolloutList', apiVersion: 'argoproj.io/v1alpha1', metadata: { resourceVersion: '10' }, items: [ro] });
    }
    if (p === `/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/${ro.metadata.name}`) return send(200, ro);
    if (p === '/apis/networking.k8s.io/v1/ingresses') return send(200, { kind: 'IngressList', apiVersion: 'networking.k8s.io/v1', metadata: {}, items: [] });
    const tgb = new RegExp(`^/apis/elbv2.k8s.aws/v1beta1/namespaces/${NS}/targetgroupbindings/([^/]+)$`).exec(p);
    const binding = tgb ? fx.bindings.get(tgb[1]!) : undefined;
    if (binding) {
      return send(200, {
        apiVersion: 'elbv2.k8s.aws/v1beta1',
        kind: 'TargetGroupBinding',
        metadata: { name: binding.name, namespace: NS },
        spec: { serviceRef: { name: binding.serviceName, port: 80 }, targetGroupARN: binding.targetGroupArn, targetType: 'ip' },
      });
    }
    return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
  });
}

beforeAll(async () => {
  moto = await startMoto();
  direct = elbv2Client(moto.endpoint);
  fx = await seed(moto.endpoint, direct);
  ro = rollout({
    block: { listenerRule: { ruleArn: fx.drivenRule }, stableTargetGroup: { targetGroupBinding: 'app-stable-tgb' }, canaryTargetGroup: { targetGroupBinding: 'app-canary-tgb' } },
  });
  ro.metadata.uid = 'uid-shop-api';
  ro.metadata.resourceVersion = '9';
  ro.status = { canary: { weights: { canary: { serviceName: 'app-canary', weight: 30 }, stable: { serviceName: 'app-stable', weight: 70 } } } };

  kube = kubeServer();
  await new Promise<void>((resolve) => kube.listen(0, '127.0.0.1', resolve));
  const port = (kube.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'alb-sidecar-lr-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: t, user: {token: t}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n`,
  );
  // The default credential chain reads these (this file runs in its own worker).
  process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_PROFILE;
  const { settings } = parseSettings(
    [
      '--kubeconfig', kubeconfig,
      '--plugin-listen', '127.0.0.1:0',
      '--http-listen', '127.0.0.1:0',
      '--aws-region', MOTO_REGION,
      '--aws-endpoint', moto.endpoint,
      ...FOLLOW_TEST_LEASE,
    ],
    {},
  );
  sidecar = await startSidecar(settings, { logger: createLogger('silent') });
});

afterAll(async () => {
  await sidecar?.close();
  kube?.closeAllConnections();
  await new Promise((resolve) => kube?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
  await moto?.stop();
  process.env = savedEnv;
});

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${sidecar.httpAddress}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('the composed sidecar in listener-rule mode', () => {
  it('SetWeight through the plugin-facing router rewrites the driven rule on the ELBv2 endpoint, counted in /metrics', async () => {
    await sidecar.router.setWeight(ro, 30, []);
    expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-canary']]: 30, [fx.tg['app-stable']]: 70 });
    await expect(sidecar.router.verifyWeight(ro, 30, [])).resolves.toEqual({ verified: RpcVerified.Verified });
    // The bindings were read from the API server with the sidecar's kubeconfig.
    expect(seen).toContain(`GET /apis/elbv2.k8s.aws/v1beta1/namespaces/${NS}/targetgroupbindings/app-canary-tgb`);
    expect(await metric('alb_plugin_elbv2_calls_total', { operation: 'ModifyRule', outcome: 'success' })).toBe(1);
    expect(await metric('alb_plugin_elbv2_calls_total', { operation: 'DescribeRules', outcome: 'success' })).toBeGreaterThanOrEqual(2);
  });

  it('serves the listener-rule report on the JSON API', async () => {
    const res = await fetch(`${sidecar.httpAddress}/api/v1/rollouts/${NS}/shop-api/verify`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      rollout: { namespace: NS, name: 'shop-api', strategy: 'canary', desiredWeight: 30 },
      verified: true,
      ingresses: [],
      listenerRule: {
        ruleArn: fx.drivenRule,
        listenerArn: fx.httpListener,
        actualWeights: { [fx.tg['app-canary']]: 30, [fx.tg['app-stable']]: 70 },
        verified: true,
      },
      // Target verification is off (no --aws-verify-target-group): the weights alone decide.
      targetGroups: [],
    });
  });

  it('puts the rule back to 100 % stable when the watch reports the Rollout deleted', async () => {
    await vi.waitFor(() => expect(watches.length).toBeGreaterThan(0), { timeout: 10_000 });
    const deleted = { ...ro, metadata: { ...ro.metadata, resourceVersion: '11' } };
    watches[watches.length - 1]!.write(JSON.stringify({ type: 'DELETED', object: deleted }) + '\n');
    await vi.waitFor(
      async () => expect(weightsOf((await ruleByArn(direct, fx.drivenRule)).Actions!)).toEqual({ [fx.tg['app-stable']]: 100 }),
      { timeout: 10_000, interval: 100 },
    );
    await vi.waitFor(async () => expect(await metric('alb_plugin_ingress_cleanups_total', { outcome: 'released' })).toBe(1));
  });
});
