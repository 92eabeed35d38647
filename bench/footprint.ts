// Footprint: sidecar start-up time to ready, resident memory idle, and after serving 1000 distinct
// Rollouts (SetWeight + VerifyWeight each, real traffic router, against a minimal Kubernetes API).
import { startFakeKube } from './fake-kube.js';
import { runJson, type BenchContext } from './harness.js';
import { startSidecarProcess } from './sidecar-process.js';

export interface FootprintResult {
  startupToReadyMs: number;
  idleRssMiB: number;
  rollouts: number;
  afterRolloutsRssMiB: number;
  ingressPatches: number;
  errors: number;
}

export async function benchFootprint(ctx: BenchContext): Promise<FootprintResult> {
  const kube = await startFakeKube();
  const sidecar = await startSidecarProcess({ root: ctx.root, tmp: ctx.tmp, kubeUrl: kube.url });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = sidecar.rssBytes();
    const rollouts = ctx.quick ? 100 : 1000;
    const out = (await runJson(ctx.bin('rpcbench'), ['-distinct', String(rollouts), '--', `${ctx.root}/bin/handshake`, '-sidecar', sidecar.pluginAddress])) as {
      errors: number;
      firstError: string;
    };
    if (out.errors > 0) throw new Error(`${out.errors} of ${rollouts} Rollouts failed: ${out.firstError}`);
    const after = sidecar.rssBytes();
    return {
      startupToReadyMs: sidecar.readyMs,
      idleRssMiB: idle / 2 ** 20,
      rollouts,
      afterRolloutsRssMiB: after / 2 ** 20,
      ingressPatches: kube.patches(),
      errors: out.errors,
    };
  } finally {
    await sidecar.stop();
    await kube.stop();
  }
}
