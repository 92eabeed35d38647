// Where the sidecar's Kubernetes client connects and how it authenticates (kube-api.ts). In a pod (the
// deployment) and with a kubeconfig written as JSON that only uses certificates and tokens, a small loader of
// our own; any other kubeconfig (YAML, exec credential plugins such as `aws eks get-token`, auth providers,
// proxies, several files in KUBECONFIG) goes to @kubernetes/client-node's KubeConfig, imported only then:
// it costs about 36 MiB of resident memory that a sidecar in a pod never needs (issue #20).

import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { KubeAccess } from './kube-api.js';

const SERVICEACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';

interface LightCluster {
  name: string;
  server: string;
  ca?: Buffer;
  skipTLSVerify?: boolean;
  tlsServerName?: string;
}

interface LightUser {
  token?: string;
  tokenFile?: string;
  cert?: Buffer;
  key?: Buffer;
}

/** A service-account token is re-read at most this often (it is rotated by the kubelet); client-node's FileAuth does the same. */
const TOKEN_REFRESH_MS = 60_000;

/** One cluster and one user, one connection pool (keep-alive, as Node's global agent). */
export class LightKubeConfig implements KubeAccess {
  private agent: http.Agent | undefined;
  private token: string | undefined;
  private tokenReadAt = 0;

  constructor(
    private readonly cluster: LightCluster,
    private readonly user: LightUser,
    private readonly context: string,
  ) {
    if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
      throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
    }
    this.token = user.token;
  }

  getCurrentCluster(): { name: string; server: string; skipTLSVerify: boolean } {
    return { name: this.cluster.name, server: this.cluster.server, skipTLSVerify: this.cluster.skipTLSVerify ?? false };
  }

  getCurrentContext(): string {
    return this.context;
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    this.agent ??= this.cluster.server.startsWith('http:')
      ? new http.Agent({ keepAlive: true, timeout: 5_000 })
      : new https.Agent({
          keepAlive: true,
          timeout: 5_000,
          ...(this.cluster.ca ? { ca: this.cluster.ca } : {}),
          ...(this.user.cert ? { cert: this.user.cert } : {}),
          ...(this.user.key ? { key: this.user.key } : {}),
          ...(this.cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
          ...(this.cluster.tlsServerName ? { servername: this.cluster.tlsServerName } : {}),
        });
    opts.agent = this.agent;
    if (this.user.tokenFile && (this.token === undefined || Date.now() - this.tokenReadAt > TOKEN_REFRESH_MS)) {
      this.token = readFileSync(this.user.tokenFile, 'utf8').trim();
      this.tokenReadAt = Date.now();
    }
    if (this.token) opts.headers = { ...(opts.headers as Record<string, string>), Authorization: `Bearer ${this.token}` };
  }
}

/** In a pod: the API server from the service environment, the ServiceAccount's CA and (rotated) token. */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, root = SERVICEACCOUNT_ROOT): LightKubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(`${root}/token`)) return undefined;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ca = existsSync(`${root}/ca.crt`) ? readFileSync(`${root}/ca.crt`) : undefined;
  return new LightKubeConfig({ name: 'inCluster', server, ...(ca ? { ca } : {}) }, { tokenFile: `${root}/token` }, 'inClusterContext');
}

type Named<T> = { name?: string } & { [k: string]: T | string | undefined };

/**
 * A kubeconfig written as JSON whose current context uses only what LightKubeConfig does (server, CA,
 * insecure-skip-tls-verify, tls-server-name, token, tokenFile, client certificate and key); undefined for
 * anything else, which client-node then loads.
 */
export function jsonKubeConfig(path: string): LightKubeConfig | undefined {
  let doc: Record<string, unknown>;
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.trimStart().startsWith('{')) return undefined;
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const find = <T>(list: unknown, name: unknown, key: string): T | undefined =>
    (Array.isArray(list) ? (list as Array<Named<T>>) : []).find((e) => e?.name === name)?.[key] as T | undefined;
  const contextName = doc['current-context'];
  const ctx = find<{ cluster?: string; user?: string }>(doc.contexts, contextName, 'context');
  const c = find<Record<string, unknown>>(doc.clusters, ctx?.cluster, 'cluster');
  const u = find<Record<string, unknown>>(doc.users, ctx?.user, 'user') ?? {};
  if (typeof contextName !== 'string' || !ctx || !c || typeof c.server !== 'string') return undefined;
  const knownCluster = ['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name'];
  const knownUser = ['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data'];
  if (Object.keys(c).some((k) => !knownCluster.includes(k)) || Object.keys(u).some((k) => !knownUser.includes(k))) return undefined;
  const base = dirname(path);
  const file = (p: unknown) => (typeof p === 'string' ? readFileSync(isAbsolute(p) ? p : join(base, p)) : undefined);
  const data = (d: unknown) => (typeof d === 'string' ? Buffer.from(d, 'base64') : undefined);
  const ca = data(c['certificate-authority-data']) ?? file(c['certificate-authority']);
  const cert = data(u['client-certificate-data']) ?? file(u['client-certificate']);
  const key = data(u['client-key-data']) ?? file(u['client-key']);
  return new LightKubeConfig(
    {
      name: String(ctx.cluster),
      server: c.server.replace(/\/$/, ''),
      ...(ca ? { ca } : {}),
      ...(c['insecure-skip-tls-verify'] === true ? { skipTLSVerify: true } : {}),
      ...(typeof c['tls-server-name'] === 'string' ? { tlsServerName: c['tls-server-name'] } : {}),
    },
    {
      ...(typeof u.token === 'string' ? { token: u.token } : {}),
      ...(typeof u.tokenFile === 'string' ? { tokenFile: isAbsolute(u.tokenFile) ? u.tokenFile : join(base, u.tokenFile) } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
    },
    contextName,
  );
}

/**
 * The sidecar's cluster access: `kubeconfig` when given, else as client-node's loadFromDefault (KUBECONFIG,
 * then ~/.kube/config, then in-cluster, then its localhost:8080 fallback, which requireKubernetes reports).
 */
export async function loadKubeAccess(kubeconfig?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeAccess> {
  const home = join(env.HOME || homedir(), '.kube', 'config');
  const file = kubeconfig ?? (env.KUBECONFIG ? (env.KUBECONFIG.includes(':') ? undefined : env.KUBECONFIG) : existsSync(home) ? home : undefined);
  if (file) {
    const light = jsonKubeConfig(file);
    if (light) return light;
  } else if (!env.KUBECONFIG) {
    const light = inClusterConfig(env);
    if (light) return light;
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  return kc;
}
