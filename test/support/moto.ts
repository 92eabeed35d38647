// Starts a real moto_server (the ELBv2 emulator, lbc-elbv2.md §5) on a free loopback port for one test
// file. Every suite gets its own process, so suites never see each other's load balancers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';

export const MOTO_REGION = 'us-west-2';
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface Moto {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Drops every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted test run must not leave emulators behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function startMoto(): Promise<Moto> {
  installExitHook();
  // The port could be taken between probing and binding; a couple of attempts make that harmless.
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let exited = false;
    const exitedPromise = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        running.delete(child);
        resolve();
      });
    });
    child.once('error', (e) => {
      stderr += String(e);
    });

    // Poll until it answers: moto needs a second or two to import its service modules.
    const deadline = Date.now() + 30_000;
    while (!exited && Date.now() < deadline) {
      if (await answers(endpoint)) {
        const stop = async (): Promise<void> => {
          if (exited) return;
          child.kill('SIGTERM');
          const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exitedPromise;
          clearTimeout(killTimer);
        };
        const reset = async (): Promise<void> => {
          const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
          await res.arrayBuffer();
          if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
        };
        return { endpoint, port, reset, stop };
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    child.kill('SIGKILL');
    await exitedPromise;
    lastError = stderr;
  }
  throw new Error(`moto_server did not start (is moto[server]==5.2.1 installed?): ${lastError.slice(-1000)}`);
}

/** An SDK client for tests and seeding: region us-west-2, dummy credentials, pointed at `endpoint`. */
export function elbv2Client(endpoint: string): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    region: MOTO_REGION,
    endpoint,
    credentials: MOTO_CREDENTIALS,
    // Seeding sends many calls; the SDK's own retries would only hide mistakes.
    maxAttempts: 1,
  });
}
