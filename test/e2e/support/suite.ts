// Shared set-up of an end-to-end file: one stack for the file, skipped with a message on a developer machine
// where the peers are not built yet, a failure in CI.
import { afterAll, beforeAll } from 'vitest';
import { missingPeers } from './peers.js';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { Observer } from './observe.js';

export function e2eSkipped(): boolean {
  const missing = missingPeers();
  if (missing.length === 0 || process.env.CI) return false;
  console.warn(`SKIPPING end-to-end tests, peers missing (run bash scripts/e2e/build.sh):\n  ${missing.join('\n  ')}`);
  return true;
}

/** Starts the stack before the file's tests and stops it after; the getters are valid inside tests. */
export function useStack(options: StackOptions = {}): { stack(): Stack; obs(): Observer } {
  let stack: Stack | undefined;
  let obs: Observer | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
    obs = new Observer(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return {
    stack: () => stack!,
    obs: () => obs!,
  };
}

export const PLUGIN = 'argoproj-labs/alb';
