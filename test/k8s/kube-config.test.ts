// The sidecar's own Kubernetes client (src/k8s/kube-api.ts) and its kubeconfig loader (src/k8s/kube-config.ts):
// which kubeconfigs it loads itself and which go to client-node, the in-cluster service account (token re-read
// after a minute), and the failure shapes the callers read (ApiException code and body, AbortError, Node's
// transport errors), against a loopback HTTP server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiException, kubeRequest, kubeWatch, MERGE_PATCH } from '../../src/k8s/kube-api.js';
import { inClusterConfig, jsonKubeConfig, LightKubeConfig, loadKubeAccess } from '../../src/k8s/kube-config.js';
import { USER_AGENT } from '../../src/version.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return path;
}

describe('loadKubeAccess', () => {
  it('loads a JSON kubeconfig with a token itself, anything else with client-node', async () => {
    const json = kubeconfig('token.json', { server: 'https://10.0.0.1:6443/', 'certificate-authority-data': Buffer.from('ca').toString('base64') }, { token: 't' });
    const light = await loadKubeAccess(json, {});
    expect(light).toBeInstanceOf(LightKubeConfig);
    expect(light.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    expect(light.getCurrentContext()).toBe('ctx');

    const exec = kubeconfig('exec.json', { server: 'https://10.0.0.1:6443' }, { exec: { command: 'aws', args: ['eks', 'get-token'] } });
    expect(jsonKubeConfig(exec)).toBeUndefined();
    const viaClientNode = await loadKubeAccess(exec, {});
    expect(viaClientNode).toBeInstanceOf(KubeConfig);

    const yaml = join(dir, 'config.yaml');
    writeFileSync(yaml, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://y:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: ctx, context: {cluster: c, user: u}}]\ncurrent-context: ctx\n');
    const fromYaml = await loadKubeAccess(yaml, {});
    expect(fromYaml).toBeInstanceOf(KubeConfig);
    expect(fromYaml.getCurrentCluster()?.server).toBe('https://y:1');
  });

  it('KUBECONFIG names the file; without one and without a service account, client-node says there is no cluster', async () => {
    const json = kubeconfig('env.json', { server: 'http://127.0.0.1:1', 'insecure-skip-tls-verify': true }, {});
    expect(await loadKubeAccess(undefined, { KUBECONFIG: json, HOME: dir })).toBeInstanceOf(LightKubeConfig);
    const none = await loadKubeAccess(undefined, { HOME: join(dir, 'nowhere') });
    expect(none).toBeInstanceOf(KubeConfig);
  });

  it('refuses plain HTTP unless the kubeconfig skips TLS verification, as client-node does', () => {
    const path = kubeconfig('http.json', { server: 'http://127.0.0.1:1' }, { token: 't' });
    expect(() => jsonKubeConfig(path)).toThrow('HTTP protocol is not allowed when skipTLSVerify is not set or false');
  });
});

describe('inClusterConfig', () => {
  it('takes the service environment, the CA and the token, and reads a rotated token again after a minute', async () => {
    const root = join(dir, 'sa');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'token'), 'first\n');
    writeFileSync(join(root, 'ca.crt'), 'not a real CA');
    expect(inClusterConfig({}, root)).toBeUndefined();
    const kc = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, root)!;
    expect(kc.getCurrentCluster()).toEqual({ name: 'inCluster', server: 'https://[fd00::1]:443', skipTLSVerify: false });
    expect(kc.getCurrentContext()).toBe('inClusterContext');
    const headers = async () => {
      const opts: import('node:https').RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return opts.headers;
    };
    expect(await headers()).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(join(root, 'token'), 'second\n');
    expect(await headers()).toEqual({ Authorization: 'Bearer first' });
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ['Date'] });
    try {
      expect(await headers()).toEqual({ Authorization: 'Bearer second' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('kubeRequest and kubeWatch', () => {
  let server: Server;
  let base = '';
  const seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
  let handler: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void = () => {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  afterEach(() => {
    seen.length = 0;
  });
  const kc = () => jsonKubeConfig(kubeconfig('loop.json', { server: base, 'insecure-skip-tls-verify': true }, { token: 'tok' }))!;

  it('sends JSON with the token, the plugin User-Agent and the patch type; returns the JSON answer', async () => {
    handler = (_req, body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    const out = await kubeRequest(kc(), { method: 'PATCH', path: '/apis/x/v1/namespaces/a b/things/t', query: { limit: 5, continue: undefined }, body: { a: 1 }, contentType: MERGE_PATCH });
    expect(out).toEqual({ a: 1 });
    expect(seen[0]).toMatchObject({ method: 'PATCH', url: '/apis/x/v1/namespaces/a%20b/things/t?limit=5', body: '{"a":1}' });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer tok', 'user-agent': USER_AGENT, 'content-type': MERGE_PATCH, accept: 'application/json' });
  });

  it('an answer outside 2xx is an ApiException with the code and the server text (none for 401)', async () => {
    const status = JSON.stringify({ kind: 'Status', code: 409, message: 'the object has been modified' });
    handler = (_req, _body, res) => res.writeHead(409, { 'content-type': 'application/json' }).end(status);
    const err = (await kubeRequest(kc(), { path: '/x' }).catch((e: unknown) => e)) as ApiException<string>;
    expect(err).toBeInstanceOf(ApiException);
    expect(err.code).toBe(409);
    expect(err.body).toBe(status);
    expect(err.headers['content-type']).toBe('application/json');
    handler = (_req, _body, res) => res.writeHead(401).end('Unauthorized');
    const unauthorized = (await kubeRequest(kc(), { path: '/x' }).catch((e: unknown) => e)) as ApiException;
    expect([unauthorized.code, unauthorized.body]).toEqual([401, undefined]);
  });

  it('a timeout or the caller signal aborts the request (AbortError); a closed port is Node’s ECONNREFUSED', async () => {
    handler = () => {}; // never answers
    const timedOut = (await kubeRequest(kc(), { path: '/slow', timeoutMs: 50 }).catch((e: unknown) => e)) as Error;
    expect(timedOut.name).toBe('AbortError');
    const caller = new AbortController();
    const pending = kubeRequest(kc(), { path: '/slow', signal: caller.signal, timeoutMs: 10_000 }).catch((e: unknown) => e);
    setTimeout(() => caller.abort(new Error('deadline')), 20);
    expect(((await pending) as Error).name).toBe('AbortError');
    const refused = jsonKubeConfig(kubeconfig('closed.json', { server: 'http://127.0.0.1:1', 'insecure-skip-tls-verify': true }, {}))!;
    expect(((await kubeRequest(refused, { path: '/version' }).catch((e: unknown) => e)) as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('watch: one callback per event line, done(null) when the server ends the stream, an Error with statusCode otherwise', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }) + '\n');
      res.write('not json\n');
      res.end(JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '3' } } }) + '\n');
    };
    const events: string[] = [];
    const done = new Promise<unknown>((resolve) => {
      void kubeWatch(kc(), '/apis/x/v1/things', { resourceVersion: '1' }, (type, obj) => events.push(`${type} ${(obj as { metadata: { name: string } }).metadata.name}`), resolve);
    });
    expect(await done).toBeNull();
    expect(events).toEqual(['ADDED a', 'DELETED a']);
    expect(seen[0]!.url).toBe('/apis/x/v1/things?resourceVersion=1&watch=true');

    handler = (_req, _body, res) => res.writeHead(410).end();
    const gone = (await new Promise<unknown>((resolve) => void kubeWatch(kc(), '/apis/x/v1/things', {}, () => {}, resolve))) as { statusCode?: number };
    expect(gone.statusCode).toBe(410);
  });

  it('watch: aborting the returned controller ends the stream once, without an uncaught error', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
    };
    let calls = 0;
    let first!: () => void;
    const added = new Promise<void>((r) => (first = r));
    const ended = new Promise<unknown>((resolve) => {
      void kubeWatch(kc(), '/w', {}, () => first(), (err) => {
        calls++;
        resolve(err);
      }).then(async (controller) => {
        await added;
        controller.abort();
      });
    });
    await ended;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(1);
  });
});
