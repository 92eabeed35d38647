// The run command with no cluster to talk to: one line on stderr naming what is missing, exit status 1,
// nothing else printed. Runs the built entry point (`npm run build` first; scripts/test-all.sh does).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const main = join(root, 'dist/src/main.js');
let dir: string;

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

// Only what the process needs: no KUBECONFIG, no ALB_PLUGIN_* from the developer's shell.
const baseEnv = (home: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: home });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'alb-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(main))('start-up without a cluster', () => {
  it('names the unreachable API server from the kubeconfig and exits 1', async () => {
    const port = await closedPort();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: test, cluster: {server: "https://127.0.0.1:${port}"}}]`,
        'users: [{name: test, user: {token: not-used}}]',
        'contexts: [{name: test, context: {cluster: test, user: test}}]',
        'current-context: test',
      ].join('\n'),
    );
    const res = await run(['--kubeconfig', kubeconfig, '--plugin-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'], baseEnv(dir));
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(
      `rollouts-plugin-trafficrouter-alb: cannot start: Kubernetes API not reachable at https://127.0.0.1:${port} (context test): ECONNREFUSED\n`,
    );
  });

  it('says that no cluster is configured at all when there is no kubeconfig and no service account', async () => {
    const res = await run(['--plugin-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0'], baseEnv(dir));
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(res.stderr).toMatch(/^rollouts-plugin-trafficrouter-alb: cannot start: no Kubernetes cluster configured: .*--kubeconfig/);
  });

  it('names a bad setting before trying anything', async () => {
    const res = await run(['--verify-mode', 'always'], baseEnv(dir));
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('rollouts-plugin-trafficrouter-alb: --verify-mode: "always" is not one of healthy, registered\n');
  });
});
