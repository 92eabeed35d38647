// Builds the Go yamux peer (gopeer/, the real hashicorp/yamux v0.1.2 client) once per source version and
// runs its scenarios against a TypeScript YamuxSession listening on a free loopback port.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { YamuxSession, type YamuxSessionOptions } from '../../../src/goplugin/yamux/session.js';

const sourceDir = fileURLToPath(new URL('./gopeer/', import.meta.url));

/** Path of the built peer; rebuilt only when main.go, go.mod or go.sum change. */
export async function buildGoPeer(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(sourceDir, f)));
  const dir = join(tmpdir(), 'alb-plugin-yamux-gopeer');
  const binary = join(dir, `gopeer-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  await promisify(execFile)('go', ['build', '-o', tmp, '.'], { cwd: sourceDir, env: { ...process.env, CGO_ENABLED: '0' } });
  await promisify(execFile)('mv', [tmp, binary]);
  return binary;
}

export interface PeerResult {
  code: number | null;
  /** The JSON object the peer printed last (empty when it failed). */
  result: Record<string, unknown>;
  stderr: string;
}

export function runGoPeer(binary: string, addr: string, scenario: string, args: string[] = []): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-addr', addr, '-scenario', scenario, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let result: Record<string, unknown> = {};
      if (code === 0) result = JSON.parse(last) as Record<string, unknown>;
      resolve({ code, result, stderr });
    });
  });
}

export interface TsServer {
  addr: string;
  /** Sessions in accept order. */
  sessions: YamuxSession[];
  /** Resolves with the close reason of the first session. */
  firstClose: Promise<Error | undefined>;
  stop(): Promise<void>;
}

/** A loopback TCP server that wraps every connection in a YamuxSession and hands it to `onSession`. */
export async function startTsServer(options: YamuxSessionOptions, onSession: (session: YamuxSession) => void): Promise<TsServer> {
  const sessions: YamuxSession[] = [];
  let resolveClose!: (e: Error | undefined) => void;
  const firstClose = new Promise<Error | undefined>((resolve) => (resolveClose = resolve));
  const server: Server = createServer((socket) => {
    const session = new YamuxSession(socket, options);
    sessions.push(session);
    if (sessions.length === 1) session.once('close', resolveClose);
    onSession(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `127.0.0.1:${port}`,
    sessions,
    firstClose,
    stop: async () => {
      for (const s of sessions) s.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
