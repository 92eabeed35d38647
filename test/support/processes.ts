// Child processes for integration and end-to-end tests: each runs in its own process group with its output
// in a file, is killed with its whole group, and is cleaned up by a watchdog if the test process dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<void>;
  hasExited(): boolean;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Removed by the watchdog when the test process dies (default: the log directory). */
  cleanupDir?: string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted run must not leave peers behind: kill whole process groups.
  process.once('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export function tail(path: string, chars = 3000): string {
  try {
    return readFileSync(path, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}

/**
 * The exit hook cannot run when the test process is killed or interrupted (Ctrl-C reaches only the
 * foreground group, and these processes lead their own). A tiny shell loop outlives that: once the test
 * process is gone it kills the group and removes the directory; once the group leader is gone it exits.
 */
function startWatchdog(pgid: number, dir: string): void {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'kill -0 "$1" 2>/dev/null || { kill -KILL "-$2" 2>/dev/null; [ -n "$3" ] && rm -rf "$3"; }';
  const dog = spawn('sh', ['-c', script, 'peer-watchdog', String(process.pid), String(pgid), dir], {
    stdio: 'ignore',
    detached: true,
  });
  dog.unref();
}

export function startProcess(name: string, binary: string, args: string[], dir: string, opts: StartOptions = {}): Proc {
  installExitHook();
  const logPath = join(dir, `${name}.log`);
  // Output goes to a file, not a pipe: a chatty peer must never block on a full pipe nobody reads.
  const fd = openSync(logPath, 'a');
  const child = spawn(binary, args, {
    stdio: ['ignore', fd, fd],
    detached: true,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  closeSync(fd);
  running.add(child);
  if (child.pid !== undefined) startWatchdog(child.pid, opts.cleanupDir ?? dir);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      writeFileSync(logPath, `\nspawn failed: ${String(err)}\n`, { flag: 'a' });
      done = true;
      running.delete(child);
      resolve();
    });
  });
  return { name, child, logPath, exited, hasExited: () => done };
}

export async function stopProcess(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.hasExited()) return;
  killGroup(p.child, signal);
  const timer = setTimeout(() => killGroup(p.child, 'SIGKILL'), 5000);
  await p.exited;
  clearTimeout(timer);
}

/** A process died during start-up (typically a port taken since it was probed): worth another attempt. */
export class ExitedError extends Error {
  override name = 'ExitedError';
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it returns true. The deadline only bounds a broken start; it is generous because
 * the first start competes for 2 shared cores.
 */
export async function waitFor(what: string, check: () => Promise<boolean>, procs: Proc[], deadlineMs = 180_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const dead = procs.find((p) => p.hasExited());
    if (dead) throw new ExitedError(`${dead.name} exited while waiting for ${what}; its log ends with:\n${tail(dead.logPath)}`);
    if (await check()) return;
    await sleep(200);
  }
  const logs = procs.map((p) => `--- ${p.name}:\n${tail(p.logPath, 1500)}`).join('\n');
  throw new Error(`timed out waiting for ${what}\n${logs}`);
}
