// Footprint: sidecar start-up time to ready, resident memory idle, and after serving 1000 distinct
// Rollouts (SetWeight + VerifyWeight each, real traffic router, against a minimal Kubernetes API), with the V8
// heap (used, from the sidecar's own /metrics) beside each. BENCH_FOOTPRINT_BASELINE=<git ref> (bench/run.sh)
// also measures that revision's build first, in the same run, each with its own deploy/ NODE_OPTIONS.
import { startFakeKube } from './fake-kube.js';
import { runJson, type BenchContext } from './harness.js';
import { startSidecarProcess } from './sidecar-process.js';

export interface FootprintRun {
  /** What was measured: "this tree" or the baseline's git ref. */
  label: string;
  nodeOptions: string;
  startupToReadyMs: number;
  idleRssMiB: number;
  idleHeapUsedMiB: number;
  rollouts: number;
  afterRolloutsRssMiB: number;
  afterRolloutsHeapUsedMiB: number;
  ingressPatches: number;
  errors: number;
}

export interface FootprintResult extends FootprintRun {
  /** The same measurement of BENCH_FOOTPRINT_BASELINE's build, when asked for. */
  baseline?: FootprintRun;
}

async function heapUsedMiB(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = /^alb_plugin_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 2 ** 20 : NaN;
}

async function measure(ctx: BenchContext, root: string, label: string): Promise<FootprintRun> {
  const kube = await startFakeKube();
  const sidecar = await startSidecarProcess({ root, tmp: ctx.tmp, kubeUrl: kube.url });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = sidecar.rssBytes();
    const idleHeap = await heapUsedMiB(sidecar.httpUrl);
    const rollouts = ctx.quick ? 100 : 1000;
    const out = (await runJson(ctx.bin('rpcbench'), ['-distinct', String(rollouts), '--', `${ctx.root}/bin/handshake`, '-sidecar', sidecar.pluginAddress])) as {
      errors: number;
      firstError: string;
    };
    if (out.errors > 0) throw new Error(`${label}: ${out.errors} of ${rollouts} Rollouts failed: ${out.firstError}`);
    const after = sidecar.rssBytes();
    return {
      label,
      nodeOptions: sidecar.nodeOptions,
      startupToReadyMs: sidecar.readyMs,
      idleRssMiB: idle / 2 ** 20,
      idleHeapUsedMiB: idleHeap,
      rollouts,
      afterRolloutsRssMiB: after / 2 ** 20,
      afterRolloutsHeapUsedMiB: await heapUsedMiB(sidecar.httpUrl),
      ingressPatches: kube.patches(),
      errors: out.errors,
    };
  } finally {
    await sidecar.stop();
    await kube.stop();
  }
}

export async function benchFootprint(ctx: BenchContext): Promise<FootprintResult> {
  const baselineRoot = process.env.BENCH_FOOTPRINT_BASELINE_ROOT;
  const baseline = baselineRoot ? await measure(ctx, baselineRoot, process.env.BENCH_FOOTPRINT_BASELINE ?? 'baseline') : undefined;
  const ours = await measure(ctx, ctx.root, 'this tree');
  return { ...ours, ...(baseline ? { baseline } : {}) };
}
