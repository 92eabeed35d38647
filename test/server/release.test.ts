// What a release stamps into the sidecar and what an operator sees of it: `--version`, a `--help` without the
// benchmark-only flags, the version in /healthz, the User-Agent towards Kubernetes and ELBv2, and a start-up
// that prints no warning (the AWS SDK's NodeVersionSupportWarning on Node 20, deprecations). The process tests
// run the built entry point (`npm run build` first; scripts/test-all.sh does) against a stand-in API server
// on a loopback port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { createElbv2 } from '../../src/aws/elbv2.js';
import { withUserAgent } from '../../src/server/kube.js';
import { FOLLOW_TEST_LEASE, LEASE_PATH, liveLease } from '../support/lease.js';
import { PRODUCT, USER_AGENT, VERSION, versionText } from '../../src/version.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const main = join(root, 'dist/src/main.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };

/** A loopback HTTP server that records every request's method, path and User-Agent. */
interface Recorder {
  url: string;
  seen: Array<{ method: string; path: string; userAgent: string | undefined }>;
  close(): Promise<void>;
}

async function recorder(handle: (req: http.IncomingMessage, res: http.ServerResponse, path: string) => void): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ method: req.method ?? '', path: url.pathname + (url.searchParams.get('watch') ? '?watch' : ''), userAgent: req.headers['user-agent'] });
    handle(req, res, url.pathname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Answers what the sidecar reads at start-up: /version, empty lists, watches that stay open. */
function standInApiServer(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
  const send = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (path === '/version') return send(200, { major: '1', minor: '34', gitVersion: 'v1.34.4' });
  // The controller's leader Lease, held by this "pod" and renewed: the sidecar leads and starts its watch.
  if (path === LEASE_PATH) return send(200, liveLease());
  if ((req.url ?? '').includes('watch=')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    return;
  }
  if (req.method === 'GET' && /^\/apis?\//.test(path) && !/\/namespaces\/[^/]+\/[^/]+\/[^/]+$/.test(path)) {
    return send(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
  }
  return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
}

function kubeconfigFor(dir: string, server: string): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\nusers: [{name: t, user: {token: t}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n`,
  );
  return file;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'alb-release-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Only what the process needs: no KUBECONFIG, no ALB_PLUGIN_* and no NODE_OPTIONS from the developer's shell.
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: dir });

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env: baseEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('version', () => {
  it('comes from package.json', () => {
    expect(PRODUCT).toBe(pkg.name);
    expect(VERSION).toBe(pkg.version);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(USER_AGENT).toBe(`${pkg.name}/${pkg.version}`);
    expect(versionText()).toBe(`${pkg.name} ${pkg.version} (node ${process.version})\n`);
  });

  it('runs on the Node.js major package.json engines names', () => {
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const major = Number(/\d+/.exec(engines)![0]);
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(major);
  });
});

describe.skipIf(!existsSync(main))('the built entry point', () => {
  it('--version prints name, version and Node release, and exits 0 without touching anything', async () => {
    const res = await run(['--version']);
    expect(res).toEqual({ code: 0, stdout: `${pkg.name} ${pkg.version} (node ${process.version})\n`, stderr: '' });
  });

  it('--help lists the production flags only, and still accepts the hidden ones', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toContain('--aws-verify-target-group');
    expect(help.stdout).toContain('--version');
    expect(help.stdout).not.toMatch(/bench/i);
    const hidden = await run(['--bench-noop-router', '--version']);
    expect(hidden).toMatchObject({ code: 0, stderr: '' });
    const unknown = await run(['--bench-no-such-thing']);
    expect(unknown).toMatchObject({ code: 1, stderr: `${pkg.name}: unknown flag --bench-no-such-thing; see --help\n` });
  });

  describe('started against a stand-in API server', () => {
    let api: Recorder;
    let child: ChildProcess | undefined;
    let stderr = '';
    let httpAddress = '';

    beforeAll(async () => {
      api = await recorder(standInApiServer);
      const kubeconfig = kubeconfigFor(dir, api.url);
      // Target verification on, so the ELBv2 client (and with it any SDK start-up warning) is built.
      child = spawn(
        process.execPath,
        [main, '--kubeconfig', kubeconfig, '--plugin-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--aws-verify-target-group', '--aws-region', 'eu-west-1', ...FOLLOW_TEST_LEASE],
        { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => (stderr += d));
      child.stderr!.on('data', (d: string) => (stderr += d));
      await vi.waitFor(
        () => {
          const started = stderr
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as { msg?: string; httpAddress?: string })
            .find((l) => l.msg === 'sidecar started');
          if (!started) throw new Error(`not started yet; output so far:\n${stderr}`);
          httpAddress = started.httpAddress!;
        },
        { timeout: 30_000, interval: 100 },
      );
    });

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await api?.close();
    });

    it('prints only its own JSON log lines: no Node or AWS SDK warning', () => {
      const lines = stderr.split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line, 'a pino log line').toMatch(/^\{"level":\d+,/);
        expect(line).not.toMatch(/Warning|deprecat/i);
      }
    });

    it('answers /healthz with its version', async () => {
      const res = await fetch(`${httpAddress}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', version: pkg.version });
    });

    it('sends its User-Agent on every Kubernetes request, the watches included', async () => {
      await vi.waitFor(() => expect(api.seen.some((r) => r.path.endsWith('?watch'))).toBe(true), { timeout: 10_000 });
      expect(api.seen.length).toBeGreaterThan(2);
      expect(api.seen.map((r) => r.path)).toContain(LEASE_PATH);
      for (const r of api.seen) expect(r.userAgent, `${r.method} ${r.path}`).toBe(USER_AGENT);
    });

    it('stops with status 0 on SIGTERM', async () => {
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child!.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  });
});

describe('User-Agent', () => {
  it('withUserAgent sets it on generated API clients and on watches built from the KubeConfig', async () => {
    const api = await recorder(standInApiServer);
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigFor(dir, api.url));
      const plain = new KubeConfig();
      plain.loadFromFile(kubeconfigFor(dir, api.url));
      withUserAgent(kc, 'probe/1.2.3');

      await kc.makeApiClient(CoreV1Api).listNamespace();
      await plain.makeApiClient(CoreV1Api).listNamespace();
      const watch = await new Watch(kc).watch('/api/v1/namespaces', {}, () => {}, () => {});
      await vi.waitFor(() => expect(api.seen.some((r) => r.path.endsWith('?watch'))).toBe(true));
      watch.abort();

      expect(api.seen.map((r) => [r.path, r.userAgent])).toEqual([
        ['/api/v1/namespaces', 'probe/1.2.3'],
        // What the plugin sent before: the API server then names its field manager after this.
        ['/api/v1/namespaces', expect.not.stringMatching(/^probe\//)],
        ['/api/v1/namespaces?watch', 'probe/1.2.3'],
      ]);
    } finally {
      await api.close();
    }
  });

  it('goes to ELBv2 as an addition to the SDK’s own', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    const errorXml =
      '<ErrorResponse><Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code><Message>none</Message></Error><RequestId>1</RequestId></ErrorResponse>';
    const elb = await recorder((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(errorXml);
    });
    try {
      const elbv2 = createElbv2({ region: 'eu-west-1', endpoint: elb.url, rateLimit: 100, rateBurst: 100, maxAttempts: 1 });
      await expect(elbv2.describeLoadBalancersByName(['x'])).rejects.toThrow();
      expect(elb.seen).toHaveLength(1);
      const ua = elb.seen[0]!.userAgent!;
      expect(ua).toMatch(/^aws-sdk-js\/3\./);
      expect(ua.split(' ')).toContain(USER_AGENT);
    } finally {
      vi.unstubAllEnvs();
      await elb.close();
    }
  });
});
