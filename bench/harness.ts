// Small helpers shared by the benchmark sections: where the Go drivers are, running them, timing.
import { spawn } from 'node:child_process';

export interface BenchContext {
  root: string;
  tmp: string;
  /** Shorter runs (BENCH_QUICK=1) for smoke-testing the harness itself. */
  quick: boolean;
  bin(name: string): string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  expectJson?: boolean;
  timeoutMs?: number;
}

/** Runs a Go driver and parses the JSON object it prints last on stdout. */
export async function runJson(cmd: string, args: string[], opts: RunOptions = {}): Promise<unknown> {
  const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`);
  if (opts.expectJson === false) return undefined;
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}
