// gob decoding throughput: the same recorded bytes (a realistic Rollout sent as Argo's
// SetWeightAndVerifyWeightArgs, 20 calls on one stream) decoded by our decoder and by Go's encoding/gob.
// Also timed: decoding plus the conversion to the Kubernetes JSON shape, which is what each call costs
// before the router sees it (Go's plugin needs no such step: gob fills its structs directly).
import { readFileSync } from 'node:fs';
import { GobDecoder } from '../src/goplugin/gob/index.js';
import { pluginArgsFromGob } from '../src/goplugin/rollout-json.js';
import { runJson, type BenchContext } from './harness.js';

export interface GobResult {
  bytes: number;
  messages: number;
  oursMBps: number;
  /** Decoding plus pluginArgsFromGob (gob values → the Rollout JSON the router reads). */
  oursWithJsonMBps: number;
  goMBps: number;
  /** ours / Go: 1 means as fast as Go. */
  ratio: number;
}

function decodeAll(data: Uint8Array, toJson: boolean): number {
  const dec = new GobDecoder();
  dec.feed(data);
  let values = 0;
  for (let v = dec.next(); v !== undefined; v = dec.next()) {
    if (toJson) pluginArgsFromGob(v);
    values++;
  }
  return values;
}

/** MB/s of `decodeAll` over a fixed wall-clock budget, after warming the JIT the way a long-running sidecar is warm. */
function throughput(data: Uint8Array, toJson: boolean, budgetMs: number): number {
  for (let i = 0; i < 20; i++) decodeAll(data, toJson);
  let passes = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < budgetMs) {
    decodeAll(data, toJson);
    passes++;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (data.length * passes) / (elapsedMs / 1000) / 1e6;
}

export async function benchGob(ctx: BenchContext): Promise<GobResult> {
  const file = `${ctx.tmp}/rollout-calls.gob`;
  await runJson(ctx.bin('gobbench'), ['-mode', 'gen', '-file', file, '-messages', '20'], { expectJson: false });
  const data = new Uint8Array(readFileSync(file));
  const messages = decodeAll(data, true);
  if (messages !== 20) throw new Error(`our decoder found ${messages} values, Go wrote 20`);
  const budgetMs = ctx.quick ? 500 : 2000;
  const oursMBps = throughput(data, false, budgetMs);
  const oursWithJsonMBps = throughput(data, true, budgetMs);
  const go = (await runJson(ctx.bin('gobbench'), ['-mode', 'decode', '-file', file, '-seconds', String(budgetMs / 1000)])) as {
    mbPerSec: number;
  };
  return { bytes: data.length, messages, oursMBps, oursWithJsonMBps, goMBps: go.mbPerSec, ratio: oursMBps / go.mbPerSec };
}
