// A minimal Kubernetes API for the footprint benchmark: answers /version and /readyz-style probes, serves
// Ingresses `bench-ing-<i>` (one `use-annotation` backend `bench-<i>-stable`, class alb) and applies JSON
// merge patches to them. Only what the sidecar's Ingress client uses; loopback only. Rollouts: an empty list
// at first, then those handed to `addRollouts`, sent as ADDED events on every open Rollout watch.
import { createServer, type Server } from 'node:http';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: { [k: string]: Json } = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k] ?? null, v);
  }
  return base;
}

function ingressFor(namespace: string, name: string): { [k: string]: Json } {
  const m = /^bench-ing-(\d+)$/.exec(name);
  const svc = m ? `bench-${m[1]}-stable` : `${name}-stable`;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, resourceVersion: '1', annotations: { 'kubernetes.io/ingress.class': 'alb' } },
    spec: {
      rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { name: 'use-annotation' } } } }] } }],
    },
    status: { loadBalancer: { ingress: [{ hostname: 'k8s-default-bench-0123456789.us-west-2.elb.amazonaws.com' }] } },
  };
}

export interface FakeKube {
  url: string;
  patches(): number;
  /** Rollouts for the list from now on, and as ADDED events on the open Rollout watches; resolves once written. */
  addRollouts(rollouts: unknown[]): Promise<void>;
  /** Open Rollout watches. */
  rolloutWatches(): number;
  stop(): Promise<void>;
}

export async function startFakeKube(): Promise<FakeKube> {
  const store = new Map<string, { [k: string]: Json }>();
  const rollouts: unknown[] = [];
  const watches = new Set<import('node:http').ServerResponse>();
  let patches = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (code: number, obj: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      const m = /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/ingresses\/([^/]+)$/.exec(url.pathname);
      if (m) {
        const key = `${m[1]}/${m[2]}`;
        const current = store.get(key) ?? ingressFor(m[1]!, m[2]!);
        if (req.method === 'GET') return send(200, current);
        if (req.method === 'PATCH') {
          const patch = JSON.parse(body) as Json;
          const meta = current.metadata as { [k: string]: Json };
          const rv = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
          if (rv !== undefined && rv !== meta.resourceVersion) {
            return send(409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409 });
          }
          const next = mergePatch(current, patch) as { [k: string]: Json };
          (next.metadata as { [k: string]: Json }).resourceVersion = String(Number(meta.resourceVersion) + 1);
          store.set(key, next);
          patches++;
          return send(200, next);
        }
      }
      if (url.pathname === '/version') return send(200, { major: '1', minor: '34', gitVersion: 'v1.34.0' });
      if (url.pathname === '/readyz' || url.pathname === '/healthz' || url.pathname === '/livez') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('ok');
      }
      if (url.pathname.endsWith('/events') && req.method === 'POST') return send(201, JSON.parse(body || '{}'));
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        // Hold watches open; Rollout watches get what addRollouts hands in.
        res.writeHead(200, { 'content-type': 'application/json' });
        if (url.pathname.endsWith('/rollouts')) {
          watches.add(res);
          res.on('close', () => watches.delete(res));
        }
        return;
      }
      if (req.method === 'GET' && /\/rollouts$/.test(url.pathname)) {
        return send(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: rollouts });
      }
      if (req.method === 'GET' && /\/ingresses$/.test(url.pathname)) {
        return send(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
      }
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    patches: () => patches,
    rolloutWatches: () => watches.size,
    async addRollouts(list) {
      rollouts.push(...list);
      const lines = list.map((object) => JSON.stringify({ type: 'ADDED', object }) + '\n').join('');
      await Promise.all([...watches].map((w) => new Promise<void>((resolve) => w.write(lines, () => resolve()))));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function kubeconfigFor(url: string): string {
  // JSON with a token only: the sidecar then takes its own light loader, as in a pod (k8s/kube-config.ts),
  // not client-node's KubeConfig, which it imports only for other kubeconfigs.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'bench', user: { token: 'bench-token' } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench', namespace: 'default' } }],
    'current-context': 'bench',
  });
}
