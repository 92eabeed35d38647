// Two controller pods, as the argo-rollouts Helm chart runs them (controller.replicas: 2): the stack's pod A
// (the machine's hostname, the pod's fixed ports) and a pod B started here, each a real Argo Rollouts controller
// with its default flags and a sidecar with deploy/'s flags, both as the argo-rollouts ServiceAccount. A pod's
// two containers share a UTS namespace, so pod B's controller and sidecar each run under `unshare --uts` with
// the hostname `argo-rollouts-pod-b` (the controller's holder identity is `<hostname>_<uuid>`). Pod B needs its
// own ports: the controller's --healthzPort/--metricsPort, the sidecar's --plugin-listen/--http-listen, and
// the handshake's --sidecar. The handshake's args come from the one argo-rollouts-config ConfigMap both
// controllers read, so pod B's controller also runs in a mount namespace of its own, where the ConfigMap's
// `location` (the handshake binary) is bind-mounted over by a wrapper that appends pod B's --sidecar (the
// last flag wins).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../support/moto.js';
import { startProcess, stopProcess, tail, waitFor, type Proc } from '../support/processes.js';
import { ingress, rollout, services } from './support/app.js';
import { canaryShare, Timeline } from './support/observe.js';
import { peers } from './support/peers.js';
import { ARGO_NAMESPACE, deploySidecar, SIDECAR_HTTP } from './support/stack.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const POD_B = { hostname: 'argo-rollouts-pod-b', pluginListen: '127.0.0.1:3101', http: 8195, healthz: 8180, metrics: 8190 };
const SIDECAR_B_HTTP = `http://127.0.0.1:${POD_B.http}`;
const OURS = 'alb.rollouts.argoproj-labs.io/managed-annotations';

async function get(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

const leaderGauge = async (base: string): Promise<number | undefined> => {
  const m = /^alb_plugin_leader (\d)$/m.exec((await get(`${base}/metrics`)) ?? '');
  return m ? Number(m[1]) : undefined;
};
const leadershipDetail = async (base: string): Promise<string | undefined> =>
  (JSON.parse((await get(`${base}/readyz`)) ?? '{"checks":[]}') as { checks: Array<{ name: string; detail?: string }> }).checks.find((c) => c.name === 'leadership')?.detail;
const setWeightCalls = async (base: string): Promise<number> =>
  [...((await get(`${base}/metrics`)) ?? '').matchAll(/^alb_plugin_rpc_calls_total\{[^}]*method="Plugin\.SetWeight"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
/** The sum of a counter's samples (all label sets); 0 when the counter has none yet. */
const counterSum = async (base: string, name: string): Promise<number> =>
  [...((await get(`${base}/metrics`)) ?? '').matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
const elbv2Calls = (base: string): Promise<number> => counterSum(base, 'alb_plugin_elbv2_calls_total');
const kubernetesWrites = (base: string): Promise<number> => counterSum(base, 'alb_plugin_kubernetes_writes_total');
const ingressPatches = async (base: string): Promise<number> =>
  Number(/^alb_plugin_kubernetes_writes_total\{verb="patch",resource="ingresses"\} (\d+)$/m.exec((await get(`${base}/metrics`)) ?? '')?.[1] ?? 0);
const released = async (base: string): Promise<number> => Number(/^alb_plugin_ingress_cleanups_total\{outcome="released"\} (\d+)$/m.exec((await get(`${base}/metrics`)) ?? '')?.[1] ?? 0);

/** New UTS and mount namespaces need root (CAP_SYS_ADMIN); without them this file skips, except in CI. */
function namespacesUnavailable(): boolean {
  if (spawnSync('unshare', ['--uts', '--mount', 'true']).status === 0 || process.env.CI) return false;
  console.warn('SKIPPING the two-pod leadership scenario: `unshare --uts --mount` needs root here');
  return true;
}

describe.skipIf(e2eSkipped() || namespacesUnavailable())('two controller pods: the sidecar beside the leading controller does the work', () => {
  const { stack, obs } = useStack();
  const podB: Proc[] = [];

  beforeAll(async () => {
    const s = stack();
    const p = peers();
    const dir = join(s.dir, 'pod-b');
    mkdirSync(join(dir, 'controller'), { recursive: true });
    // The handshake as pod B's controller sees it: the real binary, told to dial pod B's sidecar.
    const real = join(dir, 'handshake-real');
    copyFileSync(p.handshake, real);
    const wrapper = join(dir, 'handshake');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${real} "$@" --sidecar=${POD_B.pluginListen}\n`, { mode: 0o755 });
    const inPodB = (cmd: string[], mountHandshake: boolean): string[] => [
      '--uts',
      ...(mountHandshake ? ['--mount', '--propagation', 'private'] : []),
      'sh',
      '-c',
      `hostname ${POD_B.hostname} && ${mountHandshake ? `mount --bind ${wrapper} ${p.handshake} && ` : ''}exec "$0" "$@"`,
      ...cmd,
    ];
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const shipped = deploySidecar();
    const sidecar = startProcess(
      'sidecar-pod-b',
      'unshare',
      inPodB([
        process.execPath, p.sidecarMain, ...shipped.args,
        `--kubeconfig=${s.argoKubeconfig}`, `--aws-endpoint=${s.proxy.endpoint}`, `--aws-region=${MOTO_REGION}`,
        `--plugin-listen=${POD_B.pluginListen}`, `--http-listen=0.0.0.0:${POD_B.http}`,
      ], false),
      dir,
      {
        env: { ...base, ...shipped.env, AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: MOTO_REGION, AWS_EC2_METADATA_DISABLED: 'true' },
        cleanupDir: dir,
      },
    );
    podB.push(sidecar);
    await waitFor('pod B sidecar /readyz', async () => (await get(`${SIDECAR_B_HTTP}/readyz`)) !== undefined, [sidecar], 60_000);
    const controller = startProcess(
      'rollouts-controller-pod-b',
      'unshare',
      inPodB([p.argoController, `--kubeconfig=${s.argoKubeconfig}`, `--healthzPort=${POD_B.healthz}`, `--metricsPort=${POD_B.metrics}`], true),
      dir,
      { env: base, cwd: join(dir, 'controller'), cleanupDir: dir },
    );
    podB.push(controller);
    await waitFor('pod B controller /healthz', async () => (await get(`http://127.0.0.1:${POD_B.healthz}/healthz`)) !== undefined, [controller], 120_000);
  }, 240_000);

  afterAll(async () => {
    for (const proc of podB.reverse()) await stopProcess(proc);
    if (process.env.E2E_LOGS_DIR) {
      mkdirSync(process.env.E2E_LOGS_DIR, { recursive: true });
      for (const proc of podB) copyFileSync(proc.logPath, join(process.env.E2E_LOGS_DIR, `${proc.name}.log`));
    }
  });

  it('pod A leads: its sidecar serves Argo and cleans up; pod A\'s controller killed, pod B\'s sidecar takes over after it stopped, and finishes the rollout', async () => {
    const o = obs();
    const lease = async () => (await o.stack.admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ARGO_NAMESPACE, name: 'argo-rollouts-controller-lock' })).spec?.holderIdentity ?? '';
    const podBLogs = () => Promise.resolve(podB.map((x) => `--- ${x.name}:\n${tail(x.logPath, 2500)}`).join('\n'));

    // Pod A's controller started first and holds the Lease; each sidecar says which it is.
    expect(await lease()).not.toMatch(new RegExp(`^${POD_B.hostname}_`));
    await o.until('pod A sidecar leading', async () => ((await leaderGauge(SIDECAR_HTTP)) === 1 ? true : undefined), 30_000);
    await o.until('pod B sidecar standby', async () => (/^standby: another pod's controller holds/.test((await leadershipDetail(SIDECAR_B_HTTP)) ?? '') ? true : undefined), 30_000, podBLogs);
    expect(await leaderGauge(SIDECAR_B_HTTP)).toBe(0);

    const ns = await o.namespace('leader');
    await o.stack.apply(
      services(['ha-stable', 'ha-canary'], 'ha') +
        ingress('ha', 'ha-stable') +
        rollout('ha', 'ha', `
canary:
  stableService: ha-stable
  canaryService: ha-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: ha
        servicePort: 80
  steps:
  - setWeight: 20
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'ha');
    // Sampled from the canary's start to the end: no weight goes backwards on the ALB across the takeover.
    const timeline = new Timeline(o, ns, 'ha', 'ha', 'ha-stable');
    timeline.start();
    await o.setImage(ns, 'ha', 'registry.example.com/ha:2');
    await o.until('the ALB at canary 20', async () => (canaryShare(await o.albWeights(ns, 'ha', 'ha-stable'), 'ha-canary') === 20 ? true : undefined), 180_000, () => o.diagnose(ns, 'ha'));
    expect(await setWeightCalls(SIDECAR_HTTP)).toBeGreaterThan(0);
    expect(await setWeightCalls(SIDECAR_B_HTTP)).toBe(0);
    // The standby has sent nothing to ELBv2 or to Kubernetes; the same counters on the leader show they count.
    expect(await elbv2Calls(SIDECAR_HTTP)).toBeGreaterThan(0);
    expect(await kubernetesWrites(SIDECAR_HTTP)).toBeGreaterThan(0);
    expect(await elbv2Calls(SIDECAR_B_HTTP), await podBLogs()).toBe(0);
    expect(await kubernetesWrites(SIDECAR_B_HTTP), await podBLogs()).toBe(0);

    // Pod A's controller dies without releasing the Lease. Sample both gauges until pod B's sidecar leads.
    await stopProcess(o.stack.procs.controller, 'SIGKILL');
    const killed = Date.now();
    let aStandbyAt: number | undefined;
    let bLeaderAt: number | undefined;
    while (bLeaderAt === undefined && Date.now() - killed < 60_000) {
      if (aStandbyAt === undefined && (await leaderGauge(SIDECAR_HTTP)) === 0) aStandbyAt = Date.now();
      if ((await leaderGauge(SIDECAR_B_HTTP)) === 1) bLeaderAt = Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(bLeaderAt, await podBLogs()).toBeDefined();
    expect(aStandbyAt).toBeDefined();
    expect(aStandbyAt!).toBeLessThanOrEqual(bLeaderAt!);
    // Lease 15 s after the last renewal, then the candidate's retry (2 s) and the sidecar's poll (2 s).
    expect(bLeaderAt! - killed).toBeLessThan(15_000 + 2_000 + 2_000 + 3_000);
    expect(await lease()).toMatch(new RegExp(`^${POD_B.hostname}_`));
    expect(await leadershipDetail(SIDECAR_HTTP)).toMatch(/^standby: /);

    // Pod B's controller goes on with the rollout through pod B's sidecar (its handshake dials 3101).
    await o.promote(ns, 'ha');
    await o.untilHealthy(ns, 'ha', 240_000);
    await o.until('the ALB back at canary 0', async () => (canaryShare(await o.albWeights(ns, 'ha', 'ha-stable'), 'ha-canary') === 0 ? true : undefined), 120_000, () => o.diagnose(ns, 'ha'));
    expect(await setWeightCalls(SIDECAR_B_HTTP)).toBeGreaterThan(0);
    await timeline.check({ canary: 'ha-canary', seen: [20, 100], minSamples: 30, minMidRollout: 20 });

    // A deletion now is released by pod B's sidecar, not pod A's.
    const aReleased = await released(SIDECAR_HTTP);
    const aWrites = await kubernetesWrites(SIDECAR_HTTP);
    const bIngressPatches = await ingressPatches(SIDECAR_B_HTTP);
    await o.deleteRollout(ns, 'ha');
    await o.until('the Ingress released', async () => ((await o.ingress(ns, 'ha')).metadata?.annotations?.[OURS] === undefined ? true : undefined), 60_000);
    expect(await released(SIDECAR_B_HTTP)).toBe(1);
    expect(await released(SIDECAR_HTTP)).toBe(aReleased);
    // One release write, by pod B's sidecar; pod A's (standby again) wrote nothing since.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await ingressPatches(SIDECAR_B_HTTP)).toBe(bIngressPatches + 1);
    expect(await kubernetesWrites(SIDECAR_HTTP)).toBe(aWrites);
  });
});
