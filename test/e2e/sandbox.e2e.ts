// The README's run command on a machine without a cluster: the sandbox reaches a verified canary step.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/kube/assets.js';
import { e2eSkipped } from './support/suite.js';

describe.skipIf(e2eSkipped())('the sandbox (bash scripts/sandbox.sh)', () => {
  it('boots the stack, takes the demo Rollout to a canary verified on the ALB, and stops cleanly', async () => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts/sandbox.sh'), '--once'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out.slice(-4000)).toBe(0);
    // The live display showed each side of the canary, and the end of it.
    // (the step shown is the one the Rollout is at: the pause after setWeight 20)
    expect(out).toMatch(/step 2\/4 pause 15s \| phase Paused \| Rollout canary 20 \| Ingress action canary 20 \| ALB rule canary 20 \/ stable 80 \| targets canary 1\/1 healthy, stable 2\/2 healthy \| verified yes/);
    expect(out).toContain('sandbox: verified canary at 20 % (--once): stopping');
    expect(out).toContain('stopping the sandbox');
  });
});
