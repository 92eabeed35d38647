// Liveness and readiness. Liveness only says the event loop answers; readiness asks every injected check
// (the go-plugin listener accepts sessions, the Kubernetes API answers), because a sidecar that cannot
// do either would make every controller reconcile fail.

import type { FastifyPluginAsync } from 'fastify';
import { VERSION } from '../version.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready (with a detail to show, if any); rejects (or times out) with an error saying what is missing. */
  check(signal: AbortSignal): Promise<void | string>;
}

export interface HealthOptions {
  checks: readonly ReadinessCheck[];
  checkTimeoutMs: number;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  message?: string;
  /** What a passing check has to say (e.g. `standby: ...`). */
  detail?: string;
}

export async function runChecks(checks: readonly ReadinessCheck[], timeoutMs: number): Promise<CheckResult[]> {
  return Promise.all(
    checks.map(async (c): Promise<CheckResult> => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const detail = await Promise.race([
          c.check(signal),
          new Promise<never>((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)), {
              once: true,
            });
          }),
        ]);
        return typeof detail === 'string' ? { name: c.name, ok: true, detail } : { name: c.name, ok: true };
      } catch (err) {
        return { name: c.name, ok: false, message: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}

/** Ready while the go-plugin listener is listening (no probe connection, so no session is counted). */
export function listenerCheck(name: string, listener: { ready(): boolean; address: string }): ReadinessCheck {
  return {
    name,
    check: async () => {
      if (!listener.ready()) throw new Error(`not listening on ${listener.address}`);
    },
  };
}

/** Always passes, with `detail()` in the body: state worth seeing that must not make the pod unready. */
export function infoCheck(name: string, detail: () => string): ReadinessCheck {
  return { name, check: async () => detail() };
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  // The version lets `kubectl port-forward` + curl (or a probe log) say which build the pod runs.
  app.get('/healthz', async () => ({ status: 'ok', version: VERSION }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await runChecks(opts.checks, opts.checkTimeoutMs);
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
};
