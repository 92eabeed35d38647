// The sidecar's Prometheus metrics: one registry per process (tests build their own), and the hooks that
// feed it from the go-plugin server, the ELBv2 client, the verifier and the Kubernetes writers. Each
// metric is owned here so names and labels stay in one place and the docs can list them.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RpcVerified, type TrafficRouter } from './plugin/router.js';

export const METRIC_PREFIX = 'alb_plugin_';

export type Verdict = 'verified' | 'not_verified' | 'not_implemented' | 'error';

export interface Metrics {
  registry: Registry;
  /** Plugin RPC calls by method (`SetWeight`, ...) and outcome (`ok`, `error`, `timeout`, ...). */
  rpcCalls: Counter<'method' | 'outcome'>;
  rpcDuration: Histogram<'method' | 'outcome'>;
  /** ELBv2 API calls by operation (`DescribeRules`, ...) and outcome (`ok`, `throttled`, `error`). */
  elbv2Calls: Counter<'operation' | 'outcome'>;
  /** CloudWatch API calls of the analysis by operation (`GetMetricData`) and outcome, apart from ELBv2's. */
  cloudwatchCalls: Counter<'operation' | 'outcome'>;
  verifications: Counter<'verdict'>;
  /** 409 answers to our Ingress writes; each costs one re-read and retry. */
  k8sPatchConflicts: Counter<'resource'>;
  /** Kubernetes writes sent (create, update, patch, delete), by verb and resource (`ingresses`, `rollouts/status`, ...). */
  k8sWrites: Counter<'verb' | 'resource'>;
  pluginSessions: Gauge;
  eventsEmitted: Counter<'reason'>;
  cleanups: Counter<'outcome'>;
  /** 1 while this sidecar leads (its pod's controller holds the leader Lease) and runs the background work. */
  leader: Gauge;
}

export interface MetricsOptions {
  /** Node process metrics (heap, event loop lag, ...); off in tests so output stays small. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  return {
    registry,
    rpcCalls: new Counter({
      name: `${METRIC_PREFIX}rpc_calls_total`,
      help: 'Plugin RPC calls from the Argo Rollouts controller, by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      registers,
    }),
    rpcDuration: new Histogram({
      name: `${METRIC_PREFIX}rpc_duration_seconds`,
      help: 'Time to answer one plugin RPC call, by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      // SetWeight/VerifyWeight spend most time in Kubernetes and ELBv2 round trips; the controller gives up at 25 s.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25],
      registers,
    }),
    elbv2Calls: new Counter({
      name: `${METRIC_PREFIX}elbv2_calls_total`,
      help: 'ELBv2 API calls, by operation and outcome (throttled answers are counted separately)',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    cloudwatchCalls: new Counter({
      name: `${METRIC_PREFIX}cloudwatch_calls_total`,
      help: 'CloudWatch API calls of the canary analysis, by operation and outcome (throttled answers are counted separately)',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    verifications: new Counter({
      name: `${METRIC_PREFIX}weight_verifications_total`,
      help: 'VerifyWeight verdicts: verified, not_verified, not_implemented (skipped) or error',
      labelNames: ['verdict'] as const,
      registers,
    }),
    k8sPatchConflicts: new Counter({
      name: `${METRIC_PREFIX}kubernetes_patch_conflicts_total`,
      help: 'Kubernetes writes refused with 409 Conflict (stale resourceVersion), by resource',
      labelNames: ['resource'] as const,
      registers,
    }),
    k8sWrites: new Counter({
      name: `${METRIC_PREFIX}kubernetes_writes_total`,
      help: 'Kubernetes writes sent (create, update, patch, delete), by verb and resource; a standby sidecar sends none',
      labelNames: ['verb', 'resource'] as const,
      registers,
    }),
    pluginSessions: new Gauge({
      name: `${METRIC_PREFIX}plugin_sessions_open`,
      help: 'go-plugin sessions currently open (one per controller plugin client, plus leaked old ones)',
      registers,
    }),
    eventsEmitted: new Counter({
      name: `${METRIC_PREFIX}events_emitted_total`,
      help: 'Kubernetes Events created on Rollouts (after de-duplication), by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    cleanups: new Counter({
      name: `${METRIC_PREFIX}ingress_cleanups_total`,
      help: 'Ingress releases after a Rollout was deleted or stopped naming the Ingress, by outcome',
      labelNames: ['outcome'] as const,
      registers,
    }),
    leader: new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: "1 while this sidecar leads (its pod's Argo Rollouts controller holds the leader Lease) and runs the Rollout watch and cleanup sweeps; 0 on a standby",
      registers,
    }),
  };
}

/** Hooks for `startPluginServer({hooks})`. */
export interface PluginServerHooks {
  onCall(method: string, outcome: string, seconds: number): void;
  onSessionOpen(): void;
  onSessionClose(): void;
}

export function pluginServerHooks(m: Metrics): PluginServerHooks {
  return {
    onCall(method, outcome, seconds) {
      m.rpcCalls.inc({ method, outcome });
      m.rpcDuration.observe({ method, outcome }, seconds);
    },
    onSessionOpen() {
      m.pluginSessions.inc();
    },
    onSessionClose() {
      m.pluginSessions.dec();
    },
  };
}

/** The `onCall` hook of `createElbv2`. */
export function elbv2CallHook(m: Metrics): (operation: string, outcome: string) => void {
  return (operation, outcome) => m.elbv2Calls.inc({ operation, outcome });
}

/** The `onCall` hook of `createCloudWatch` (src/analysis/cloudwatch.ts). */
export function cloudwatchCallHook(m: Metrics): (operation: string, outcome: string) => void {
  return (operation, outcome) => m.cloudwatchCalls.inc({ operation, outcome });
}

export function verdictOf(verified: RpcVerified, err?: string): Verdict {
  if (err) return 'error';
  switch (verified) {
    case RpcVerified.Verified:
      return 'verified';
    case RpcVerified.NotVerified:
      return 'not_verified';
    case RpcVerified.NotImplemented:
      return 'not_implemented';
  }
}

/** Counts every VerifyWeight verdict, in every mode, by what it answered. */
export function countingRouter(inner: TrafficRouter, m: Metrics): TrafficRouter {
  return {
    ...inner,
    async verifyWeight(rollout, desiredWeight, extra, call) {
      try {
        const res = await inner.verifyWeight(rollout, desiredWeight, extra, call);
        m.verifications.inc({ verdict: verdictOf(res.verified, res.err) });
        return res;
      } catch (err) {
        m.verifications.inc({ verdict: 'error' });
        throw err;
      }
    },
  };
}
