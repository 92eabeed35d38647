// The end-to-end stack, all on loopback: etcd and kube-apiserver (envtest), kube-controller-manager (ReplicaSets,
// EndpointSlices, garbage collection), kwok as the kubelet of one fake Node, moto_server for EC2 and ELBv2, the
// real AWS Load Balancer Controller, the real Argo Rollouts controller with its default flags and the plugin
// entry exactly as deploy/ writes it, and the sidecar with deploy/'s flags, env and ports. The controller and
// the sidecar both run as the argo-rollouts ServiceAccount bound to the upstream roles and deploy/'s role.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startElbv2Proxy, type Elbv2Proxy } from '../../support/elbv2-proxy.js';
import { REPO_ROOT } from '../../support/kube/assets.js';
import { renderOverlay, renderUnavailable } from '../../deploy/render.js';
import { startEnvtest, type Envtest } from '../../support/kube/envtest.js';
import { elbv2Client, freePort, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../../support/moto.js';
import { sleep, startProcess, stopProcess, tail, waitFor, type Proc } from '../../support/processes.js';
import { CLUSTER_NAME, POD_CIDR, seedVpc } from './aws.js';
import { gatewayApiCrds } from './gateway.js';
import { missingPeers, peers, type Peers } from './peers.js';

export const ARGO_NAMESPACE = 'argo-rollouts';
export const KWOK_NODE = 'kwok-node-0';
/** The sidecar's HTTP port as deploy/ sets it (the same port in the same network namespace as the controller). */
export const SIDECAR_HTTP = 'http://127.0.0.1:8095';

export interface StackOptions {
  /** Sidecar flags appended to deploy/'s (for example --cleanup-sweep-seconds=5). */
  sidecarArgs?: string[];
  /** Start the AWS Load Balancer Controller (default true); without it nothing builds load balancers. */
  lbc?: boolean;
  /** Install the Gateway API CRDs and start the LBC with its ALBGatewayAPI feature on (support/gateway.ts). */
  gatewayApi?: boolean;
  /**
   * Give the Argo controller AWS credentials, a region and `AWS_ENDPOINT_URL=<moto>` (what IRSA and a VPC
   * endpoint give it in a cluster), so its own CloudWatch metric provider queries moto's CloudWatch
   * (aws-sdk-go-v2's `config.LoadDefaultConfig` honours the variable; moto >= 5.2.6 serves the RPCv2 CBOR
   * protocol its CloudWatch client speaks). Off by default: the controller then has no AWS configuration.
   */
  controllerAws?: boolean;
  /** Print a line per boot step to stderr (the sandbox does). */
  progress?: (line: string) => void;
}

export interface Stack {
  dir: string;
  env: Envtest;
  moto: Moto;
  /** Between moto and the LBC and the sidecar (not the test's own reads). */
  proxy: Elbv2Proxy;
  elbv2: ElasticLoadBalancingV2Client;
  vpcId: string;
  subnetIds: string[];
  /** Admin client configuration. */
  admin: KubeConfig;
  objects: KubernetesObjectApi;
  /** Kubeconfig path of the argo-rollouts ServiceAccount (what the controller and the sidecar use). */
  argoKubeconfig: string;
  procs: Record<'kcm' | 'kwok' | 'controller' | 'sidecar', Proc> & { lbc?: Proc };
  /** Creates (or, for an existing object, server-side applies) every object of a YAML text or list. */
  apply(objects: string | KubernetesObject[], namespace?: string): Promise<void>;
  /** Stops the sidecar with `signal`, runs `whileDown` (what happens while no sidecar runs), and starts it again. */
  restartSidecar(signal?: NodeJS.Signals, whileDown?: () => Promise<void>): Promise<void>;
  restartController(signal?: NodeJS.Signals): Promise<void>;
  logs(name: keyof Stack['procs'], chars?: number): string;
  stop(): Promise<void>;
}

interface DeploySidecar {
  args: string[];
  env: Record<string, string>;
}

type DeploymentDoc = KubernetesObject & {
  spec: { template: { spec: { containers: Array<{ name: string; args?: string[]; env?: Array<{ name: string; value?: string }> }> } } };
};

/** The sidecar container of the controller Deployment (rendered, or deploy/'s patch): its args and env, as shipped. */
export function deploySidecar(
  deployment: DeploymentDoc = (loadAllYaml(readFileSync(join(REPO_ROOT, 'deploy/kustomize/deployment-patch.yaml'), 'utf8')) as DeploymentDoc[])[0]!,
): DeploySidecar {
  const container = deployment.spec.template.spec.containers.find((c) => c.name === 'alb-plugin');
  if (!container) throw new Error('the argo-rollouts Deployment from deploy/ has no alb-plugin container');
  return {
    args: container.args ?? [],
    env: Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])),
  };
}

/**
 * deploy/'s plugin ConfigMap (rendered, or the overlay's patch), with only `location` pointing at the local
 * handshake binary, in every plugin list (the controller copies every entry at start-up and exits when one
 * is missing, utils/plugin/downloader.go).
 */
export function deployPluginConfigMap(
  handshake: string,
  cm: KubernetesObject & { data?: Record<string, string> } = (loadAllYaml(
    readFileSync(join(REPO_ROOT, 'deploy/kustomize/argo-rollouts-config.yaml'), 'utf8'),
  ) as Array<KubernetesObject & { data: Record<string, string> }>)[0]!,
): KubernetesObject {
  const data: Record<string, string> = { ...cm.data };
  for (const key of ['trafficRouterPlugins', 'metricProviderPlugins']) {
    const entry = data[key] ?? '';
    if (!/location: "file:\/\/\/alb-plugin\/handshake"/.test(entry)) throw new Error(`unexpected ${key} entry in deploy/: ${entry}`);
    data[key] = entry.replaceAll('file:///alb-plugin/handshake', `file://${handshake}`);
  }
  return { ...cm, metadata: { ...cm.metadata, namespace: ARGO_NAMESPACE }, data } as KubernetesObject;
}

interface Install {
  /** How the objects were made, for the progress line. */
  source: string;
  crds: KubernetesObject[];
  /** Everything else but the controller Deployment (the controller and the sidecar run as processes). */
  objects: KubernetesObject[];
  sidecar: DeploySidecar;
}

/**
 * What `kubectl apply -k deploy/kustomize` installs, rendered by kustomize (kubectl's) with the upstream
 * install.yaml from the Go module cache; where kubectl is missing, the same pieces read from deploy/ directly.
 */
function install(p: Peers): Install {
  const crdsOf = (docs: KubernetesObject[]) => docs.filter((d) => d.kind === 'CustomResourceDefinition');
  if (renderUnavailable() === undefined) {
    const rendered = renderOverlay(p.argoInstall) as unknown as KubernetesObject[];
    const deployment = rendered.find((d) => d.kind === 'Deployment' && d.metadata?.name === 'argo-rollouts') as DeploymentDoc | undefined;
    if (!deployment) throw new Error('the kustomize rendering of deploy/kustomize has no argo-rollouts Deployment');
    return {
      source: 'kustomize rendering of deploy/kustomize',
      crds: crdsOf(rendered),
      objects: rendered
        .filter((d) => d.kind !== 'CustomResourceDefinition' && d.kind !== 'Deployment')
        .map((d) => (d.kind === 'ConfigMap' && d.metadata?.name === 'argo-rollouts-config' ? deployPluginConfigMap(p.handshake, d) : d)),
      sidecar: deploySidecar(deployment),
    };
  }
  const upstream = (loadAllYaml(readFileSync(p.argoInstall, 'utf8')) as KubernetesObject[]).filter(Boolean);
  return {
    source: 'upstream install.yaml plus deploy/kustomize pieces (no kubectl to render the overlay)',
    crds: crdsOf(upstream),
    objects: [
      ...upstream.filter((d) => d.kind !== 'CustomResourceDefinition' && d.kind !== 'Deployment' && d.kind !== 'ConfigMap'),
      ...(loadAllYaml(readFileSync(join(REPO_ROOT, 'deploy/kustomize/rbac.yaml'), 'utf8')) as KubernetesObject[]),
      deployPluginConfigMap(p.handshake),
    ],
    sidecar: deploySidecar(),
  };
}

function webhookCerts(dir: string): string {
  const certDir = join(dir, 'lbc-webhook');
  mkdirSync(certDir, { recursive: true });
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'tls.key', '-out', 'tls.crt',
      '-days', '2', '-subj', '/CN=lbc-webhook', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { cwd: certDir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return certDir;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

const awsEnv = (): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  AWS_REGION: MOTO_REGION,
  AWS_DEFAULT_REGION: MOTO_REGION,
  // Never ask an instance metadata service: it is not on loopback.
  AWS_EC2_METADATA_DISABLED: 'true',
});

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

/** Fixed ports of a real controller pod: Argo's health and metrics, the sidecar's HTTP and plugin listeners. */
const POD_PORTS = [8080, 8090, 8095, 3001];

/** Refuses to start beside another stack (or anything else on the pod's ports): its answers would be taken for ours. */
async function checkPodPortsFree(): Promise<void> {
  const taken: number[] = [];
  for (const port of POD_PORTS) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
    });
    if (!free) taken.push(port);
  }
  if (taken.length > 0) {
    throw new Error(
      `ports ${taken.join(', ')} are in use: the controller pod's ports must be free (is another end-to-end stack or sandbox running? ` +
        `\`ss -ltnp\` shows who holds them)`,
    );
  }
}

const LOCK_DIR = join(tmpdir(), 'rollouts-plugin-alb-e2e.lock');

function lockHolder(): number | undefined {
  try {
    const pid = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * One stack per machine at a time (the pod's ports are fixed): a second one waits for the first to stop. The
 * lock is a directory naming its holder's pid, taken over when that process is gone.
 */
async function acquireStackLock(progress: (line: string) => void, timeoutMs = 45 * 60_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      const release = (): void => {
        if (lockHolder() === process.pid) rmSync(LOCK_DIR, { recursive: true, force: true });
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = lockHolder();
    if (holder === undefined) {
      // Give a holder that is just writing its pid a moment before taking the lock over.
      await sleep(500);
      if (lockHolder() === undefined) rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another end-to-end stack (pid ${holder}) held ${LOCK_DIR} for too long`);
    if (!told) {
      progress(`waiting for another end-to-end stack to stop (pid ${holder})`);
      told = true;
    }
    await sleep(2000);
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const progress = options.progress ?? (() => undefined);
  const releaseLock = await acquireStackLock((line) => {
    progress(line);
    process.stderr.write(`e2e: ${line}\n`);
  });
  try {
    await checkPodPortsFree();
  } catch (err) {
    releaseLock();
    throw err;
  }
  const p: Peers = peers();
  const missing = missingPeers(p).filter((m) => options.lbc !== false || !m.startsWith(p.lbc));
  if (missing.length > 0) throw new Error(`end-to-end peers missing:\n  ${missing.join('\n  ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'alb-e2e-'));
  const procs: Partial<Stack['procs']> = {};
  let env: Envtest | undefined;
  let moto: Moto | undefined;
  let proxy: Elbv2Proxy | undefined;
  const cleanup = async (): Promise<void> => {
    for (const name of ['controller', 'sidecar', 'lbc', 'kwok', 'kcm'] as const) {
      const proc = procs[name];
      if (proc) await stopProcess(proc);
    }
    await proxy?.stop();
    await moto?.stop();
    await env?.stop();
    // E2E_LOGS_DIR keeps every peer's log of the run (CI prints where; a failed scenario names its peers).
    if (process.env.E2E_LOGS_DIR) {
      const keep = join(process.env.E2E_LOGS_DIR, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
      mkdirSync(keep, { recursive: true });
      for (const f of readdirSync(dir)) if (f.endsWith('.log')) copyFileSync(join(dir, f), join(keep, f));
    }
    rmSync(dir, { recursive: true, force: true });
    releaseLock();
  };

  try {
    progress('etcd and kube-apiserver');
    env = await startEnvtest({ crds: false });
    const admin = env.adminConfig();
    const objects = KubernetesObjectApi.makeApiClient(admin);
    const core = admin.makeApiClient(CoreV1Api);

    const apply = async (input: string | KubernetesObject[], namespace?: string): Promise<void> => {
      // Empty documents (a trailing `---`) are skipped: client-node's loader cannot take them.
      const docs = typeof input === 'string' ? input.split(/^---[ \t]*$/m).filter((d) => d.trim() !== '').join('\n---\n') : '';
      const list = typeof input === 'string' ? (loadAllYaml(docs) as KubernetesObject[]).filter(Boolean) : input;
      for (const obj of list) {
        if (namespace && !obj.metadata?.namespace && obj.kind !== 'Namespace') obj.metadata = { ...obj.metadata, namespace };
        try {
          await objects.create(obj);
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err;
          await objects.patch(obj, undefined, undefined, 'e2e', true, PatchStrategy.ServerSideApply);
        }
      }
    };

    const shipped = install(p);
    progress(`CRDs (Argo Rollouts from the ${shipped.source}, AWS Load Balancer Controller)`);
    const crds = [...shipped.crds, ...(loadAllYaml(readFileSync(p.lbcCrds, 'utf8')) as KubernetesObject[]).filter(Boolean)];
    if (options.gatewayApi) crds.push(...gatewayApiCrds(p.dir));
    await apply(crds);
    for (const crd of crds as Array<KubernetesObject & { spec: { group: string; names: { plural: string; kind: string }; versions: Array<{ name: string; served: boolean }> } }>) {
      const v = crd.spec.versions.find((x) => x.served)!;
      await waitFor(`CRD ${crd.metadata?.name}`, async () => {
        try {
          await objects.list(`${crd.spec.group}/${v.name}`, crd.spec.names.kind);
          return true;
        } catch {
          return false;
        }
      }, [], 60_000);
    }

    progress(`Argo Rollouts install with the plugin (${shipped.source}): roles, RBAC, plugin entry`);
    await core.createNamespace({ body: { metadata: { name: ARGO_NAMESPACE } } });
    await apply(shipped.objects, ARGO_NAMESPACE);
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'argo-rollouts',
      namespace: ARGO_NAMESPACE,
      body: { spec: { audiences: [env.server], expirationSeconds: 86_400 } },
    });
    const argoKubeconfig = env.writeKubeconfig('argo-rollouts', tr.status!.token);

    progress('IngressClass alb and the kwok Node');
    await apply(`
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: alb}
spec: {controller: ingress.k8s.aws/alb}
---
apiVersion: v1
kind: Node
metadata:
  name: ${KWOK_NODE}
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: ${KWOK_NODE}, kubernetes.io/os: linux, type: kwok, topology.kubernetes.io/zone: ${MOTO_REGION}a}
spec: {podCIDR: ${POD_CIDR}, podCIDRs: [${POD_CIDR}]}
`);

    progress('kube-controller-manager and kwok');
    const adminKubeconfig = env.kubeconfigPath;
    procs.kcm = startProcess('kube-controller-manager', p.kubeControllerManager, [
      `--kubeconfig=${adminKubeconfig}`,
      `--authentication-kubeconfig=${adminKubeconfig}`,
      `--authorization-kubeconfig=${adminKubeconfig}`,
      '--controllers=replicaset-controller,endpointslice-controller,endpoints-controller,garbage-collector-controller',
      '--leader-elect=false',
      '--secure-port=0',
      '--concurrent-replicaset-syncs=5',
      '--v=1',
    ], dir, { env: baseEnv(), cleanupDir: dir });
    const kwokServerPort = await freePort();
    procs.kwok = startProcess('kwok', p.kwok, [
      `--kubeconfig=${adminKubeconfig}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--config=${p.kwokStages}`,
      `--server-address=127.0.0.1:${kwokServerPort}`,
      '--node-ip=127.0.0.1',
    ], dir, { env: baseEnv(), cleanupDir: dir });
    await waitFor('the kwok Node to be Ready', async () => {
      const node = await core.readNode({ name: KWOK_NODE }).catch(() => undefined);
      return (node?.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    }, [procs.kcm, procs.kwok], 120_000);

    progress('moto_server (EC2, ELBv2) with a VPC and tagged subnets');
    moto = await startMoto();
    const { vpcId, subnetIds } = await seedVpc(moto.endpoint);
    // The LBC and the sidecar reach ELBv2 through the proxy: it mends a gap of moto's the LBC runs into, and
    // counts calls by Action for the scenarios that assert on the sidecar's cost.
    proxy = await startElbv2Proxy(moto.endpoint, { atomicRulePriorities: true });
    const elbv2 = elbv2Client(moto.endpoint);

    if (options.lbc !== false) {
    progress('AWS Load Balancer Controller');
    const [lbcMetrics, lbcHealth, lbcWebhook] = [await freePort(), await freePort(), await freePort()];
    procs.lbc = startProcess('aws-load-balancer-controller', p.lbc, [
      `--kubeconfig=${adminKubeconfig}`,
      `--cluster-name=${CLUSTER_NAME}`,
      `--aws-region=${MOTO_REGION}`,
      `--aws-vpc-id=${vpcId}`,
      `--aws-api-endpoints=EC2=${moto.endpoint},Elastic Load Balancing v2=${proxy.endpoint},STS=${moto.endpoint}`,
      '--enable-shield=false',
      '--enable-waf=false',
      '--enable-wafv2=false',
      '--enable-leader-election=false',
      `--metrics-bind-addr=127.0.0.1:${lbcMetrics}`,
      `--health-probe-bind-addr=127.0.0.1:${lbcHealth}`,
      `--webhook-bind-port=${lbcWebhook}`,
      `--webhook-cert-dir=${webhookCerts(dir)}`,
      `--feature-gates=ALBGatewayAPI=${options.gatewayApi === true},NLBGatewayAPI=false`,
    ], dir, { env: { ...baseEnv(), ...awsEnv() }, cleanupDir: dir });
    await waitFor('the LBC /readyz', () => httpOk(`http://127.0.0.1:${lbcHealth}/readyz`), [procs.lbc], 120_000);
    }

    const sidecarArgs = [
      ...shipped.sidecar.args,
      `--kubeconfig=${argoKubeconfig}`,
      `--aws-endpoint=${proxy.endpoint}`,
      `--aws-region=${MOTO_REGION}`,
      // The analysis's GetMetricData goes to moto's CloudWatch (same server, no proxy: ELBv2 only).
      `--cloudwatch-endpoint=${moto.endpoint}`,
      ...(options.sidecarArgs ?? []),
    ];
    const sidecarEnv = { ...baseEnv(), ...shipped.sidecar.env, ...awsEnv() };
    const startSidecar = async (): Promise<Proc> => {
      const proc = startProcess('sidecar', process.execPath, [p.sidecarMain, ...sidecarArgs], dir, { env: sidecarEnv, cleanupDir: dir });
      await waitFor('the sidecar /readyz', () => httpOk(`${SIDECAR_HTTP}/readyz`), [proc], 60_000);
      if (proc.hasExited()) throw new Error(`the sidecar exited right after start:\n${tail(proc.logPath)}`);
      return proc;
    };
    const motoEndpoint = moto.endpoint;
    const controllerDir = join(dir, 'controller');
    mkdirSync(controllerDir, { recursive: true });
    const startController = async (): Promise<Proc> => {
      // Default flags: only where to find the API server, which a pod gets from its ServiceAccount.
      const proc = startProcess('rollouts-controller', p.argoController, [`--kubeconfig=${argoKubeconfig}`], dir, {
        env: options.controllerAws ? { ...baseEnv(), ...awsEnv(), AWS_ENDPOINT_URL: motoEndpoint } : baseEnv(),
        cwd: controllerDir,
        cleanupDir: dir,
      });
      await waitFor('the Argo Rollouts controller /healthz', () => httpOk('http://127.0.0.1:8080/healthz'), [proc], 120_000);
      if (proc.hasExited()) throw new Error(`the controller exited right after start:\n${tail(proc.logPath)}`);
      return proc;
    };

    progress('the plugin sidecar (deploy/ flags and ports)');
    procs.sidecar = await startSidecar();
    progress('the Argo Rollouts controller (default flags)');
    procs.controller = await startController();

    const stack: Stack = {
      dir,
      env,
      moto,
      proxy,
      elbv2,
      vpcId,
      subnetIds,
      admin,
      objects,
      argoKubeconfig,
      procs: procs as Stack['procs'],
      apply,
      async restartSidecar(signal = 'SIGKILL', whileDown) {
        await stopProcess(stack.procs.sidecar, signal);
        try {
          await whileDown?.();
        } finally {
          // A failed `whileDown` must not leave the stack without a sidecar for the scenarios after it.
          stack.procs.sidecar = await startSidecar();
        }
      },
      async restartController(signal = 'SIGTERM') {
        await stopProcess(stack.procs.controller, signal);
        // Port 8080/8090 and the leader lease are released by a clean stop; give the OS a moment.
        await sleep(500);
        stack.procs.controller = await startController();
      },
      logs(name, chars = 4000) {
        const proc = stack.procs[name];
        return proc ? tail(proc.logPath, chars) : '';
      },
      stop: cleanup,
    };
    return stack;
  } catch (err) {
    const logs = Object.values(procs)
      .filter((x): x is Proc => x !== undefined)
      .map((x) => `--- ${x.name}:\n${tail(x.logPath, 2500)}`)
      .join('\n');
    await cleanup();
    if (err instanceof Error) err.message += logs ? `\n${logs}` : '';
    throw err;
  }
}

/** Writes a kubeconfig for the admin user next to the stack (the sandbox prints its path). */
export function writeAdminKubeconfig(stack: Stack, path: string): void {
  writeFileSync(path, readFileSync(stack.env.kubeconfigPath, 'utf8'), { mode: 0o600 });
}
