// An envtest-like Kubernetes control plane for integration tests: a real etcd and a real kube-apiserver
// (built by scripts/kube/build.sh) on free loopback ports, RBAC on, an admin token and ServiceAccount
// tokens, with the CRDs the plugin touches installed. Nothing else runs: no controller-manager, so no
// garbage collection and no namespace deletion; tests use a fresh namespace each instead.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { freePort } from '../moto.js';
import { ExitedError, startProcess, stopProcess, waitFor, type Proc } from '../processes.js';
import { kubeAssets, REPO_ROOT, type KubeAssets } from './assets.js';
import { makeCertificates, type Certificates } from './certs.js';

export const ADMIN_USER = 'envtest-admin';
const TGB_CRDS = join(REPO_ROOT, 'test/support/kube/crds/targetgroupbindings.yaml');

export interface Envtest {
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** A kubeconfig file for the admin user (system:masters), for tools that want a path. */
  kubeconfigPath: string;
  adminToken: string;
  /** A fresh admin client configuration (cluster-admin through the system:masters group). */
  adminConfig(): KubeConfig;
  /** A client configuration that authenticates with `token` and nothing else. */
  configForToken(token: string): KubeConfig;
  /** Writes a kubeconfig file for `token` (the sidecar's "kubeconfig for local use" path) and returns its path. */
  writeKubeconfig(name: string, token: string): string;
  /** Creates a uniquely named namespace (prefix + random suffix) and returns its name. */
  createNamespace(prefix: string): Promise<string>;
  /** Creates a ServiceAccount and returns a bound token for it (TokenRequest API, 1 h). */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  /** Creates each object as admin, in order. */
  apply(objects: KubernetesObject[]): Promise<void>;
  /** Every request the API server has audited so far (only with `auditLog: true`; otherwise empty). */
  auditEvents(): AuditEvent[];
  stop(): Promise<void>;
}

/** One line of the API server's audit log (audit.k8s.io/v1 Event, stage ResponseComplete or ResponseStarted). */
export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

/** Audit every request at level Metadata, once (no RequestReceived stage): who did what to which object. */
const AUDIT_POLICY = 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n- level: Metadata\n';

export interface EnvtestOptions {
  /** Install the Argo Rollouts and TargetGroupBinding CRDs (default true). */
  crds?: boolean;
  /** Binaries to run instead of the build script's cache (tests of this helper's failure paths). */
  assets?: KubeAssets;
  /** Where the temporary directory goes (default: the OS temp directory). */
  tmpRoot?: string;
  /** Write the API server's audit log (every request at level Metadata), read back with `auditEvents()`. */
  auditLog?: boolean;
}

interface HttpResult {
  status: number;
  body: string;
}

function httpsGet(url: string, ca: string, token: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function httpGet(url: string): Promise<number> {
  return fetch(url, { signal: AbortSignal.timeout(2000) })
    .then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    })
    .catch(() => 0);
}

export function kubeconfigYaml(server: string, caPem: string, user: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: envtest',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: envtest',
    '  context:',
    '    cluster: envtest',
    `    user: ${user}`,
    'current-context: envtest',
    '',
  ].join('\n');
}

export function etcdArgs(dir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=envtest',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=envtest=${peer}`,
    // Test data is thrown away; fsync only costs time on a shared disk.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

function apiserverArgs(certs: Certificates, port: number, etcdPort: number, extra: readonly string[] = []): string[] {
  const server = `https://127.0.0.1:${port}`;
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${certs.serverCertPath}`,
    `--tls-private-key-file=${certs.serverKeyPath}`,
    `--client-ca-file=${certs.caCertPath}`,
    `--token-auth-file=${certs.tokenFilePath}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${certs.saPublicKeyPath}`,
    `--service-account-signing-key-file=${certs.saPrivateKeyPath}`,
    // Only used to allocate ClusterIPs in etcd; nothing ever routes to this range.
    '--service-cluster-ip-range=10.0.0.0/24',
    // No kubelets and no Endpoints controller: do not maintain the `kubernetes` Service's endpoints.
    '--endpoint-reconciler-type=none',
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    '--profiling=false',
    '--enable-priority-and-fairness=false',
    '--v=1',
    ...extra,
  ];
}

async function startControlPlane(assets: KubeAssets, dir: string, certs: Certificates, adminToken: string, extraArgs: readonly string[] = []): Promise<{ server: string; procs: Proc[] }> {
  // A port can be taken between probing and binding; a process that exits gets the whole start retried.
  // A hang is not retried: it would only triple the wait before the same error.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const procs: Proc[] = [];
    try {
      const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const etcd = startProcess(`etcd-${attempt}`, assets.etcd, etcdArgs(join(dir, `a${attempt}`), etcdPort, peerPort), dir);
      procs.push(etcd);
      await waitFor('etcd /health', async () => (await httpGet(`http://127.0.0.1:${etcdPort}/health`)) === 200, procs);

      const apiserver = startProcess(`kube-apiserver-${attempt}`, assets.kubeApiserver, apiserverArgs(certs, apiPort, etcdPort, extraArgs), dir);
      procs.push(apiserver);
      const server = `https://127.0.0.1:${apiPort}`;
      await waitFor(
        'kube-apiserver /readyz',
        async () => {
          try {
            return (await httpsGet(`${server}/readyz`, certs.caCertPem, adminToken)).status === 200;
          } catch {
            return false;
          }
        },
        procs,
      );
      return { server, procs };
    } catch (err) {
      lastError = err;
      for (const p of procs.reverse()) await stopProcess(p);
      if (!(err instanceof ExitedError)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function installCrds(env: Envtest, assets: KubeAssets, caPem: string, procs: Proc[]): Promise<void> {
  const crds = [
    ...(loadAllYaml(readFileSync(assets.rolloutCrd, 'utf8')) as KubernetesObject[]),
    ...(loadAllYaml(readFileSync(TGB_CRDS, 'utf8')) as KubernetesObject[]),
  ];
  await env.apply(crds);
  const objects = KubernetesObjectApi.makeApiClient(env.adminConfig());
  type Crd = KubernetesObject & {
    spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
    status?: { conditions?: { type: string; status: string }[] };
  };
  for (const crd of crds as Crd[]) {
    await waitFor(
      `CRD ${crd.metadata?.name} to be established`,
      async () => {
        const live = (await objects.read({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name: crd.metadata?.name ?? '' },
        })) as Crd;
        return (live.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
      },
      procs,
    );
    // Established can precede the handler being served by a moment; wait until each version lists.
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      const url = `${env.server}/apis/${crd.spec.group}/${v.name}/${crd.spec.names.plural}`;
      await waitFor(`${url} to be served`, async () => {
        const res = await httpsGet(url, caPem, env.adminToken).catch(() => ({ status: 0, body: '' }));
        return res.status === 200;
      }, procs);
    }
  }
}

/** Starts etcd + kube-apiserver and installs the CRDs. Throws a message naming the fix if the binaries are missing. */
export async function startEnvtest(options: EnvtestOptions = {}): Promise<Envtest> {
  const assets = options.assets ?? kubeAssets();
  if (!assets.available) throw new Error(assets.missingReason);
  const dir = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'envtest-'));
  let procs: Proc[] = [];
  try {
    const adminToken = randomBytes(24).toString('hex');
    const certs = makeCertificates(dir, [{ token: adminToken, user: ADMIN_USER, uid: '1', groups: ['system:masters'] }]);
    const auditPath = join(dir, 'audit.log');
    let auditArgs: string[] = [];
    if (options.auditLog) {
      writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
      // The log backend is blocking by default: an event is written before the response goes out.
      auditArgs = [`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${auditPath}`];
    }
    const started = await startControlPlane(assets, dir, certs, adminToken, auditArgs);
    procs = started.procs;
    const server = started.server;

    const configForToken = (token: string): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml(server, certs.caCertPem, 'envtest-user', token));
      return kc;
    };
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, certs.caCertPem, ADMIN_USER, adminToken), { mode: 0o600 });

    let stopped = false;
    const env: Envtest = {
      server,
      kubeconfigPath,
      adminToken,
      adminConfig: () => configForToken(adminToken),
      configForToken,
      writeKubeconfig(name, token) {
        const path = join(dir, `${name}.kubeconfig`);
        writeFileSync(path, kubeconfigYaml(server, certs.caCertPem, name, token), { mode: 0o600 });
        return path;
      },
      async createNamespace(prefix) {
        const name = `${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 63);
        await env.adminConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
        return name;
      },
      async serviceAccountToken(namespace, name) {
        const core = env.adminConfig().makeApiClient(CoreV1Api);
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
        const tr = await core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { audiences: [server], expirationSeconds: 3600 } },
        });
        const token = tr.status?.token;
        if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
        return token;
      },
      async apply(objects) {
        const api = KubernetesObjectApi.makeApiClient(env.adminConfig());
        for (const obj of objects) await api.create(obj);
      },
      auditEvents() {
        if (!options.auditLog) return [];
        let text: string;
        try {
          text = readFileSync(auditPath, 'utf8');
        } catch {
          return [];
        }
        return text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .flatMap((l) => {
            try {
              return [JSON.parse(l) as AuditEvent];
            } catch {
              return []; // a line being written right now
            }
          });
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const p of [...procs].reverse()) await stopProcess(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    if (options.crds !== false) {
      try {
        await installCrds(env, assets, certs.caCertPem, procs);
      } catch (err) {
        await env.stop();
        throw err;
      }
    }
    return env;
  } catch (err) {
    for (const p of [...procs].reverse()) await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
