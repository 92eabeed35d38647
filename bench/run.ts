// Runs every benchmark section side by side against the same peers, prints one table with ratios and
// writes bench/results/<section>.json plus bench/results/latest.json. Sections can be picked with
// BENCH_SECTIONS=gob,verify,scale,rpc,footprint,analysis (latest.* are written only when all six ran); BENCH_QUICK=1 makes every section short (harness smoke test).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAnalysis, type AnalysisResult } from './analysis.js';
import { benchFootprint, type FootprintResult } from './footprint.js';
import { benchGob, type GobResult } from './gob.js';
import type { BenchContext } from './harness.js';
import { benchRpc, type RpcResult } from './rpc.js';
import { benchScale, type ScaleResult } from './scale.js';
import { benchVerify, type ManyRolloutsResult, type VerifyRow } from './verify.js';

const here = fileURLToPath(new URL('.', import.meta.url));
// Compiled to <root>/.cache/bench-js/bench/run.js; the repo root is three levels up.
const root = resolve(process.env.BENCH_ROOT ?? join(here, '..', '..', '..'));

const f = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Every section, in the order a full run takes them. */
const ALL_SECTIONS = ['gob', 'verify', 'scale', 'rpc', 'footprint', 'analysis'];

function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const sections = (process.env.BENCH_SECTIONS ?? ALL_SECTIONS.join(',')).split(',').map((s) => s.trim());
  const unknown = sections.filter((s) => !ALL_SECTIONS.includes(s));
  if (unknown.length > 0) throw new Error(`BENCH_SECTIONS: unknown section ${unknown.join(', ')}; the sections are ${ALL_SECTIONS.join(', ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'alb-bench-'));
  const binDir = process.env.BENCH_BIN ?? join(root, '.cache', 'bench-bin');
  const ctx: BenchContext = { root, tmp, quick: process.env.BENCH_QUICK === '1', bin: (n) => join(binDir, n) };
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const results: Record<string, unknown> = { machine: machine(), quick: ctx.quick };
  const lines: string[] = [];
  const save = (name: string, value: unknown): void => {
    results[name] = value;
    writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ machine: results.machine, quick: ctx.quick, [name]: value }, null, 2) + '\n');
  };
  try {
    if (sections.includes('verify')) {
      process.stderr.write('bench: weight verification (moto, seeding load balancers)...\n');
      const { rows, many } = await benchVerify(ctx);
      save('verify', { rows, many });
      lines.push('ELBv2 calls per weight verification (same moto, same counting proxy; ours = Ingress mode; Gateway mode = a Gateway + HTTPRoute\'s ALB in the same region, measured in the same run)');
      lines.push('| LBs in region | ours cold calls | ours warm calls | Argo calls | Argo / ours warm | ours cold ms | ours warm p50 ms | Argo p50 ms | Gateway mode cold calls | Gateway mode warm calls | Gateway mode warm p50 ms |');
      lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const r of rows as VerifyRow[]) {
        lines.push(`| ${r.loadBalancers} | ${f(r.oursColdCalls, 0)} | ${f(r.oursWarmCalls, 2)} | ${f(r.argoCalls, 1)} | ${f(r.warmCallRatio, 1)}x | ${f(r.oursColdMs)} | ${f(r.oursWarmP50Ms)} | ${f(r.argoP50Ms)} | ${f(r.gatewayColdCalls, 0)} | ${f(r.gatewayWarmCalls, 2)} | ${f(r.gatewayWarmP50Ms)} |`);
      }
      const m = many as ManyRolloutsResult;
      lines.push('');
      lines.push(`${m.rollouts} Rollouts at setWeight steps, verified every 10 s for ${m.simulatedSeconds} simulated s (account Describe refill: ${m.accountDescribeRefillPerSecond}/s, shared with the LBC)`);
      lines.push('| | ELBv2 calls | calls/s |');
      lines.push('|---|---:|---:|');
      lines.push(`| ours (per 10 s round: ${m.oursCallsPerRound.join(', ')}) | ${m.oursCalls} | ${f(m.oursCallsPerSecond, 2)} |`);
      lines.push(`| Argo (${f(m.argoCallsPerVerification, 1)} calls/verification) | ${f(m.argoCalls, 0)} | ${f(m.argoCallsPerSecond, 2)} |`);
      lines.push(`| ratio Argo / ours | | ${f(m.argoCallsPerSecond / Math.max(m.oursCallsPerSecond, 1e-9), 1)}x |`);
      lines.push('');
      lines.push('Rate limits are off in this section so calls are counted, not queued; the sidecar itself sends at most');
      lines.push('`--aws-rate-limit` (default 2/s), so a cold burst like round 1 is spread out rather than refused.');
      lines.push('');
    }
    if (sections.includes('scale')) {
      process.stderr.write('bench: a cold round at scale (moto, seeding 210 load balancers)...\n');
      const sc: ScaleResult = await benchScale(ctx);
      save('scale', sc);
      const first = sc.scenarios[0];
      lines.push(
        `A cold first round: every Rollout verified at once (a sidecar restart, a fleet-wide release), at the default rate limit ` +
          `(${first?.rateLimit ?? 2}/s, burst ${first?.rateBurst ?? 5}). Calls counted at the proxy (same moto), seconds on the token bucket's ` +
          `simulated clock. Argo = its own verification code on a sample of the same Rollouts, times their number (it shares nothing), ` +
          `seconds = the least the same bucket needs for those calls. One HTTPS listener per ALB, 2 target groups per Rollout.`,
      );
      lines.push('| Rollouts on ALBs | mode | ELBv2 calls | per ALB | per Rollout | s until all verified | Argo calls | Argo s (at least) | Argo / ours calls | Argo / ours s |');
      lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
      for (const s of sc.scenarios) {
        for (const r of s.modes) {
          lines.push(
            `| ${s.name} | ${r.mode} | ${f(r.calls, 0)} | ${f(r.callsPerAlb, 2)} | ${f(r.callsPerRollout, 2)} | ${f(r.seconds)} | ${f(s.argo.calls, 0)} | ${f(s.argo.seconds)} | ` +
              `${f(s.argo.calls / Math.max(r.calls, 1e-9), 1)}x | ${r.seconds > 0 ? `${f(s.argo.seconds / r.seconds, 1)}x` : 'within the burst'} |`,
          );
        }
      }
      lines.push('');
      lines.push('Argo\'s algorithm is Ingress mode\'s (it has no listener-rule or Gateway verification); its calls are the reference for');
      lines.push('every mode on the same ALBs. Argo sends them without a client-side limit, against the account\'s Describe quota');
      lines.push('(refill 10/s, shared with the LBC).');
      lines.push('');
    }
    if (sections.includes('rpc')) {
      process.stderr.write('bench: RPC overhead (Argo RPC client -> our sidecar vs a Go plugin)...\n');
      const r: RpcResult = await benchRpc(ctx);
      save('rpc', r);
      lines.push(`RPC overhead, Argo's RPC client, ${r.calls} calls each, Rollout args ${f(r.argsGobBytes / 1024)} KiB of gob, no-op router on both sides`);
      lines.push('| call | ours p50 ms | Go p50 ms | ratio | ours p99 ms | Go p99 ms | ratio |');
      lines.push('|---|---:|---:|---:|---:|---:|---:|');
      lines.push(`| SetWeight | ${f(r.ours.setWeightP50Ms, 3)} | ${f(r.go.setWeightP50Ms, 3)} | ${f(r.setWeightP50Ratio, 2)}x | ${f(r.ours.setWeightP99Ms, 3)} | ${f(r.go.setWeightP99Ms, 3)} | ${f(r.setWeightP99Ratio, 2)}x |`);
      lines.push(`| VerifyWeight | ${f(r.ours.verifyWeightP50Ms, 3)} | ${f(r.go.verifyWeightP50Ms, 3)} | ${f(r.verifyWeightP50Ratio, 2)}x | ${f(r.ours.verifyWeightP99Ms, 3)} | ${f(r.go.verifyWeightP99Ms, 3)} | ${f(r.verifyWeightP99Ratio, 2)}x |`);
      lines.push('');
    }
    if (sections.includes('gob')) {
      process.stderr.write('bench: gob decoding...\n');
      const g: GobResult = await benchGob(ctx);
      save('gob', g);
      lines.push(`gob decoding of the same recorded bytes (${g.messages} SetWeight calls, ${f(g.bytes / 1024)} KiB)`);
      lines.push('| ours MB/s | ours + conversion to Rollout JSON MB/s | Go encoding/gob MB/s | ours / Go |');
      lines.push('|---:|---:|---:|---:|');
      lines.push(`| ${f(g.oursMBps)} | ${f(g.oursWithJsonMBps)} | ${f(g.goMBps)} | ${f(g.ratio, 2)}x |`);
      lines.push('');
    }
    if (sections.includes('footprint')) {
      process.stderr.write('bench: footprint...\n');
      const fp: FootprintResult = await benchFootprint(ctx);
      save('footprint', fp);
      lines.push(
        `Sidecar footprint (deploy/'s NODE_OPTIONS; heap = V8 heap used, from the sidecar's /metrics; ${fp.rollouts} distinct Rollouts of ` +
          `${f(fp.rolloutJsonBytes / 1024, 0)} KiB JSON each: first served over RPC, SetWeight + VerifyWeight each, then also listed in its Rollout watch)`,
      );
      lines.push('| build | NODE_OPTIONS | start-up to ready ms | RSS idle MiB | heap idle MiB | RSS after the RPCs MiB | heap MiB | RSS with them also in the watch MiB | heap MiB |');
      lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const r of [...(fp.baseline ? [fp.baseline] : []), fp]) {
        lines.push(
          `| ${r.label} | \`${r.nodeOptions}\` | ${f(r.startupToReadyMs, 0)} | ${f(r.idleRssMiB)} | ${f(r.idleHeapUsedMiB)} | ` +
            `${f(r.afterRpcRssMiB)} | ${f(r.afterRpcHeapUsedMiB)} | ${f(r.afterRolloutsRssMiB)} | ${f(r.afterRolloutsHeapUsedMiB)} |`,
        );
      }
      lines.push('');
      lines.push('What importing costs a fresh process (this tree, the same NODE_OPTIONS; RSS after the import and a GC minus before it, median of three; heap = V8 heap used after)');
      lines.push('| modules | RSS MiB | heap MiB |');
      lines.push('|---|---:|---:|');
      for (const c of fp.importCosts) lines.push(`| ${c.modules} | ${f(c.rssMiB)} | ${f(c.heapUsedMiB)} |`);
      lines.push('');
      lines.push('The sidecar no longer imports @kubernetes/client-node at run time (only for a kubeconfig its own loader does not read:');
      lines.push('YAML, exec credential plugins): its index, config.js (KubeConfig), every generated Api class and ListWatch load the whole');
      lines.push('generated model set, so deep imports would not help. The CloudWatch SDK is imported at the first ALB analysis; it');
      lines.push('shares the smithy core with ELBv2\'s, so it adds little. Rows do not add up: the first import of any package pays');
      lines.push('for the module loader and shared code.');
      lines.push('');
    }
    if (sections.includes('analysis')) {
      process.stderr.write('bench: ALB analysis, CloudWatch calls per measurement (moto, publishing ALB metrics)...\n');
      const a: AnalysisResult = await benchAnalysis(ctx);
      save('analysis', a);
      lines.push(`CloudWatch calls per ALB-analysis measurement (same moto, same counting proxy; checks ${a.checks.join(', ')}; a ${a.windowMinutes}-minute window): ours = the metric provider, naive = one GetMetricData per metric per target group (and per load balancer for HTTPCode_ELB_5XX_Count) as a hand-written AnalysisTemplate with Argo's CloudWatch provider queries`);
      lines.push('| LBs | ours GetMetricData | naive GetMetricData | naive / ours | metrics requested (ours = naive) | ours p50 ms | naive p50 ms | same totals | ours ELBv2 calls: first / within 30 s / minutes later |');
      lines.push('|---:|---:|---:|---:|---:|---:|---:|---|---|');
      for (const r of a.rows) {
        lines.push(
          `| ${r.loadBalancers} | ${f(r.oursCloudWatchCalls, 0)} | ${f(r.naiveCloudWatchCalls, 0)} | ${f(r.callRatio, 0)}x | ${f(r.oursMetricsRequested, 0)} = ${f(r.naiveMetricsRequested, 0)} | ` +
            `${f(r.oursP50Ms)} | ${f(r.naiveP50Ms)} | ${r.sameTotals ? 'yes' : 'NO'} | ${r.oursElbv2Cold} / ${f(r.oursElbv2Warm, 0)} / ${r.oursElbv2AfterTtl} |`,
        );
      }
      lines.push('');
      lines.push('CloudWatch bills GetMetricData per metric requested, the same on both sides; the calls count against the account\'s');
      lines.push('GetMetricData quota (50/s, shared with dashboards and alarms). Ours p50 includes finding the load balancers (ELBv2,');
      lines.push('Ingress mode, within 30 s of a discovery); the naive side is handed the dimensions. Argo\'s CloudWatch provider can put');
      lines.push('several queries in one metric\'s metricDataQueries (one call per Argo metric and measurement), at the price of');
      lines.push('dimensions passed as args and a successCondition per metric.');
      lines.push('');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const m = results.machine as Record<string, unknown>;
  const header = `Measured ${m.date} on ${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}${ctx.quick ? ' (QUICK mode: short runs)' : ''}`;
  const table = [header, '', ...lines].join('\n');
  // latest.* hold a full run; a run of some sections (BENCH_SECTIONS) only writes theirs (<section>.json).
  const all = ALL_SECTIONS.every((s) => sections.includes(s));
  if (all) {
    writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(resultsDir, 'latest.md'), table + '\n');
  } else {
    process.stderr.write(`bench: sections ${sections.join(',')} only; bench/results/latest.* left as they were\n`);
  }
  process.stdout.write(table + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
