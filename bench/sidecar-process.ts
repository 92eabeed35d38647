// Starts the built sidecar (`node dist/src/main.js`) as its own process, the way the Deployment runs it,
// and reads its readiness and resident memory from outside.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../test/support/moto.js';
import { kubeconfigFor } from './fake-kube.js';

export interface SidecarProcess {
  child: ChildProcess;
  pluginAddress: string;
  httpUrl: string;
  /** Milliseconds from spawn until /readyz answered 200. */
  readyMs: number;
  /** The NODE_OPTIONS it was started with (deploy/'s). */
  nodeOptions: string;
  rssBytes(): number;
  stop(): Promise<void>;
}

export async function startSidecarProcess(opts: { root: string; tmp: string; kubeUrl: string; extraArgs?: string[] }): Promise<SidecarProcess> {
  const pluginPort = await freePort();
  const httpPort = await freePort();
  const kubeconfig = `${opts.tmp}/kubeconfig-${pluginPort}`;
  writeFileSync(kubeconfig, kubeconfigFor(opts.kubeUrl));
  const nodeOptions = deployedNodeOptions(opts.root);
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      `${opts.root}/dist/src/main.js`,
      '--plugin-listen', `127.0.0.1:${pluginPort}`,
      '--http-listen', `127.0.0.1:${httpPort}`,
      '--kubeconfig', kubeconfig,
      '--log-level', 'warn',
      ...(opts.extraArgs ?? []),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // The Node options deploy/ gives the sidecar container, so the footprint is the deployed one.
      env: { ...process.env, NODE_OPTIONS: nodeOptions, AWS_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sidecar exited ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sidecar not ready within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    child,
    pluginAddress: `127.0.0.1:${pluginPort}`,
    httpUrl,
    readyMs,
    nodeOptions,
    rssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
      return kb * 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    },
  };
}

/** NODE_OPTIONS of the sidecar container in deploy/kustomize/deployment-patch.yaml ('' when it sets none). */
export function deployedNodeOptions(root: string): string {
  const text = readFileSync(`${root}/deploy/kustomize/deployment-patch.yaml`, 'utf8');
  return /- name: NODE_OPTIONS\s+value: (.+)/.exec(text)?.[1]?.trim() ?? '';
}
