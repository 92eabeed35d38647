// gob decoding throughput: the same recorded bytes (a realistic Rollout sent as Argo's
// SetWeightAndVerifyWeightArgs, 20 calls on one stream) decoded by our decoder and by Go's encoding/gob.
import { readFileSync } from 'node:fs';
import { GobDecoder } from '../src/goplugin/gob/index.js';
import { runJson, type BenchContext } from './harness.js';

export interface GobResult {
  bytes: number;
  messages: number;
  oursMBps: number;
  goMBps: number;
  /** ours / Go: 1 means as fast as Go. */
  ratio: number;
}

function decodeAll(data: Uint8Array): number {
  const dec = new GobDecoder();
  dec.feed(data);
  let values = 0;
  while (dec.next() !== undefined) values++;
  return values;
}

export async function benchGob(ctx: BenchContext): Promise<GobResult> {
  const file = `${ctx.tmp}/rollout-calls.gob`;
  await runJson(ctx.bin('gobbench'), ['-mode', 'gen', '-file', file, '-messages', '20'], { expectJson: false });
  const data = new Uint8Array(readFileSync(file));
  const messages = decodeAll(data);
  if (messages !== 20) throw new Error(`our decoder found ${messages} values, Go wrote 20`);
  // Warm the JIT the way a long-running sidecar is warm, then time for a fixed wall-clock budget.
  for (let i = 0; i < 20; i++) decodeAll(data);
  const budgetMs = ctx.quick ? 500 : 2000;
  let passes = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < budgetMs) {
    decodeAll(data);
    passes++;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const oursMBps = (data.length * passes) / (elapsedMs / 1000) / 1e6;
  const go = (await runJson(ctx.bin('gobbench'), ['-mode', 'decode', '-file', file, '-seconds', String(budgetMs / 1000)])) as {
    mbPerSec: number;
  };
  return { bytes: data.length, messages, oursMBps, goMBps: go.mbPerSec, ratio: oursMBps / go.mbPerSec };
}
