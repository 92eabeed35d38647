// What the HTTP API asks of its report source: the Rollout, and its report (src/plugin/report.ts) now or cached.

import type { Rollout } from '../core/rollout.js';
import type { RolloutReport } from '../plugin/report.js';

export interface ReportOptions {
  /** true: the caller asked for a fresh check (`/verify`); false: cached ELBv2 data may be served. */
  fresh: boolean;
  /** Ingresses named in the request (`?ingress=`); blue-green Rollouts name none in their spec. */
  ingresses: string[];
  signal: AbortSignal;
}

/** The peers the API reads from: the Kubernetes Rollout getter and the verifier's report function. */
export interface RolloutReportSource {
  /** undefined when the Rollout does not exist. */
  getRollout(namespace: string, name: string, signal: AbortSignal): Promise<Rollout | undefined>;
  report(rollout: Rollout, opts: ReportOptions): Promise<RolloutReport>;
}
