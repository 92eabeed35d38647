// Starts a real moto_server (the ELBv2 emulator, lbc-elbv2.md §5) on a free loopback port for one test
// file. Every suite gets its own process, so suites never see each other's load balancers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { startProcess, stopProcess, tail } from './processes.js';

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
  // Its own process group and a watchdog (processes.ts): a test process that is killed takes moto with it.
  const dir = mkdtempSync(join(tmpdir(), 'moto-'));
  // The port could be taken between probing and binding; a couple of attempts make that harmless.
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const proc = startProcess(`moto-${attempt}`, 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], dir, {
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    // Poll until it answers: moto needs a second or two to import its service modules.
    const deadline = Date.now() + 30_000;
    while (!proc.hasExited() && Date.now() < deadline) {
      if (await answers(endpoint)) {
        const stop = async (): Promise<void> => {
          await stopProcess(proc);
          rmSync(dir, { recursive: true, force: true });
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
    await stopProcess(proc, 'SIGKILL');
    lastError = tail(proc.logPath, 1000);
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`moto_server did not start (is moto[server]>=5.2.6 installed? scripts/test-all.sh installs it): ${lastError}`);
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
