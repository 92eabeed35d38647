// Footprint: sidecar start-up time to ready, resident memory idle, after serving 1000 distinct Rollouts
// (SetWeight + VerifyWeight each, real traffic router, against a minimal Kubernetes API), and after the same
// 1000 Rollouts also reached its Rollout watch (the cleanup's copy, as a leading sidecar holds every Rollout
// of the cluster), with the V8 heap (used, from the sidecar's own /metrics) beside each. The sidecar runs with
// --leader-elect=false so that its watch runs at once, as the leader's does. BENCH_FOOTPRINT_BASELINE=<git ref> (bench/run.sh)
// also measures that revision's build first, in the same run, each with its own deploy/ NODE_OPTIONS.
import { spawnSync } from 'node:child_process';
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
  /** After the RPCs only (the Rollouts not in the watch): the column measured before the watch was. */
  afterRpcRssMiB: number;
  afterRpcHeapUsedMiB: number;
  /** After the RPCs and the same Rollouts in the watch. */
  afterRolloutsRssMiB: number;
  afterRolloutsHeapUsedMiB: number;
  /** Size of one Rollout as JSON (the Go fixture's, as Argo sends it). */
  rolloutJsonBytes: number;
  ingressPatches: number;
  errors: number;
}

/** What importing some modules costs a fresh process (deploy/'s NODE_OPTIONS), after a GC, against a bare one. */
export interface ImportCost {
  modules: string;
  rssMiB: number;
  heapUsedMiB: number;
}

export interface FootprintResult extends FootprintRun {
  /** The same measurement of BENCH_FOOTPRINT_BASELINE's build, when asked for. */
  baseline?: FootprintRun;
  importCosts: ImportCost[];
}

const PROBE = `
const before = process.memoryUsage().rss;
for (const m of JSON.parse(process.argv[1])) await import(m);
await new Promise((r) => setTimeout(r, 300));
globalThis.gc();
const u = process.memoryUsage();
console.log(JSON.stringify({ rss: u.rss - before, heap: u.heapUsed }));
`;

function probe(root: string, nodeOptions: string, modules: string[]): { rss: number; heap: number } {
  const out = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE, JSON.stringify(modules)], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`import probe ${modules.join(', ')}: ${out.stderr}`);
  return JSON.parse(out.stdout.trim()) as { rss: number; heap: number };
}

/** Import costs, each the median of three fresh processes: the sidecar's big dependencies alone and together. */
export function importCosts(root: string, nodeOptions: string): ImportCost[] {
  const sidecar = `${root}/dist/src/sidecar.js`;
  const sets: Array<[string, string[]]> = [
    ['(nothing)', []],
    ['@kubernetes/client-node', ['@kubernetes/client-node']],
    ['@aws-sdk/client-elastic-load-balancing-v2', ['@aws-sdk/client-elastic-load-balancing-v2']],
    ['@aws-sdk/client-cloudwatch', ['@aws-sdk/client-cloudwatch']],
    ['fastify + pino + prom-client', ['fastify', 'pino', 'prom-client']],
    ['dist/src/sidecar.js (everything the sidecar loads at start-up)', [sidecar]],
    ['dist/src/sidecar.js, then @kubernetes/client-node', [sidecar, '@kubernetes/client-node']],
    ['dist/src/sidecar.js, then @aws-sdk/client-cloudwatch', [sidecar, '@aws-sdk/client-cloudwatch']],
  ];
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
  return sets.map(([label, modules]) => {
    const runs = [0, 1, 2].map(() => probe(root, nodeOptions, modules));
    return { modules: label, rssMiB: median(runs.map((r) => r.rss)) / 2 ** 20, heapUsedMiB: median(runs.map((r) => r.heap)) / 2 ** 20 };
  });
}

async function heapUsedMiB(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = /^alb_plugin_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 2 ** 20 : NaN;
}

/** RSS once it has stopped moving: three samples 500 ms apart within 1 MiB, after at least 2 s. */
async function settledRss(rss: () => number): Promise<number> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(2000);
  const samples = [rss()];
  for (let i = 0; i < 60; i++) {
    await sleep(500);
    samples.push(rss());
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) < 2 ** 20) break;
  }
  return samples[samples.length - 1]!;
}

async function measure(ctx: BenchContext, root: string, label: string): Promise<FootprintRun> {
  const kube = await startFakeKube();
  const sidecar = await startSidecarProcess({ root, tmp: ctx.tmp, kubeUrl: kube.url, extraArgs: ['--leader-elect=false'] });
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
    const afterRpc = sidecar.rssBytes();
    const afterRpcHeap = await heapUsedMiB(sidecar.httpUrl);
    // The same Rollouts, now as the API server would list and watch them.
    const list = (await runJson(ctx.bin('rpcbench'), ['-dump-rollouts', String(rollouts)])) as unknown[];
    if (kube.rolloutWatches() === 0) throw new Error(`${label}: the sidecar has no Rollout watch open`);
    await kube.addRollouts(list);
    const after = await settledRss(sidecar.rssBytes);
    return {
      label,
      nodeOptions: sidecar.nodeOptions,
      startupToReadyMs: sidecar.readyMs,
      idleRssMiB: idle / 2 ** 20,
      idleHeapUsedMiB: idleHeap,
      rollouts,
      afterRpcRssMiB: afterRpc / 2 ** 20,
      afterRpcHeapUsedMiB: afterRpcHeap,
      afterRolloutsRssMiB: after / 2 ** 20,
      afterRolloutsHeapUsedMiB: await heapUsedMiB(sidecar.httpUrl),
      rolloutJsonBytes: Buffer.byteLength(JSON.stringify(list[0])),
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
  return { ...ours, ...(baseline ? { baseline } : {}), importCosts: importCosts(ctx.root, ours.nodeOptions) };
}
