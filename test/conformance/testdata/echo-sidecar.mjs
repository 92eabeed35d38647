// A sidecar whose router and metric provider echo what the TypeScript side decoded, so the Go suite can
// compare field values with what Argo's clients sent. Everything below them is the real build (dist/): the
// listener, yamux, net/rpc, gob and the Rollout and AnalysisRun conversions. Usage: node echo-sidecar.mjs 127.0.0.1:PORT
import { startPluginServer } from '../../../dist/src/goplugin/server.js';
import { createLogger } from '../../../dist/src/logger.js';

const listen = process.argv[2];
const c0 = (r) => r.spec?.template?.spec?.containers?.[0] ?? {};

// The fields the suite checks: identity, times, int-or-string, quantities (lost in gob), plugin JSON,
// nested pod template values, status.
function digest(r) {
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    uid: r.metadata.uid,
    generation: r.metadata.generation,
    creationTimestamp: r.metadata.creationTimestamp,
    labels: r.metadata.labels,
    note: r.metadata.annotations?.note,
    largeAnnotationLength: r.metadata.annotations?.['example.com/large']?.length ?? 0,
    managedFieldsTime: r.metadata.managedFields?.[0]?.time,
    replicas: r.spec.replicas,
    maxSurge: r.spec.strategy.canary?.maxSurge,
    canaryService: r.spec.strategy.canary?.canaryService,
    stableService: r.spec.strategy.canary?.stableService,
    plugins: r.spec.strategy.canary?.trafficRouting?.plugins,
    managedRoutes: r.spec.strategy.canary?.trafficRouting?.managedRoutes,
    steps: r.spec.strategy.canary?.steps?.length,
    image: c0(r).image,
    args: c0(r).args,
    containerPort: c0(r).ports?.[0]?.containerPort,
    envFieldPath: c0(r).env?.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath,
    readinessPort: c0(r).readinessProbe?.httpGet?.port,
    livenessPort: c0(r).livenessProbe?.tcpSocket?.port,
    cpuRequest: c0(r).resources?.requests?.cpu ?? null,
    volumeDefaultMode: r.spec.template?.spec?.volumes?.[0]?.configMap?.defaultMode,
    phase: r.status?.phase,
    stableRS: r.status?.stableRS,
    hpaReplicas: r.status?.HPAReplicas,
    canaryWeight: r.status?.canary?.weights?.canary?.weight,
    conditionTimes: (r.status?.conditions ?? []).map((c) => c.lastTransitionTime),
    pauseStart: r.status?.pauseConditions?.[0]?.startTime,
  };
}

const echo = (op, r, extra) => new Error(JSON.stringify({ op, ...extra, rollout: digest(r) }));

const router = {
  initPlugin: async () => {},
  type: () => 'écho ✓ 日本',
  updateHash: async (r, canaryHash, stableHash, dests) => {
    throw echo('UpdateHash', r, { canaryHash, stableHash, dests });
  },
  setWeight: async (r, weight, dests) => {
    throw echo('SetWeight', r, { weight, dests });
  },
  verifyWeight: async (r, weight, dests) => ({ verified: 1, err: echo('VerifyWeight', r, { weight, dests }).message }),
  setHeaderRoute: async (r, route) => {
    throw echo('SetHeaderRoute', r, { route });
  },
  setMirrorRoute: async (r, route) => {
    throw echo('SetMirrorRoute', r, { route });
  },
  removeManagedRoutes: async (r) => {
    throw echo('RemoveManagedRoutes', r, {});
  },
};

// The metric provider's side: what the TypeScript side decoded of the AnalysisRun, Metric and Measurement
// goes back in the reply (a measurement's message, an error, metadata), so the suite can compare it with what
// Argo's client sent, and the measurements carry values Go must decode exactly.
function runDigest(r) {
  const results = r.status?.metricResults?.[0];
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    uid: r.metadata.uid,
    creationTimestamp: r.metadata.creationTimestamp,
    labels: r.metadata.labels,
    note: r.metadata.annotations?.note,
    ownerReferences: r.metadata.ownerReferences,
    args: r.spec.args,
    metricNames: r.spec.metrics.map((m) => m.name),
    counts: r.spec.metrics.map((m) => m.count ?? null),
    oauth2: r.spec.metrics[2]?.provider?.web?.authentication?.oauth2 ?? null,
    retention: r.spec.measurementRetention,
    phase: r.status?.phase,
    startedAt: r.status?.startedAt,
    measurements: results?.measurements,
    resultMetadata: results?.metadata,
  };
}

const metricProvider = {
  initPlugin: async () => {},
  type: () => 'écho ✓ analyse',
  run: async (r, metric) => ({
    phase: 'Successful',
    message: JSON.stringify({ op: 'Run', run: runDigest(r), metric }),
    value: '0.002',
    metadata: { 'ünï': 'cödé ✓', empty: '' },
    startedAt: '2026-03-04T05:12:00.123456789Z',
    finishedAt: '2026-03-04T07:12:01+02:00',
  }),
  resume: async (r, metric, measurement) => ({
    ...measurement,
    phase: 'Successful',
    message: JSON.stringify({ op: 'Resume', run: r.metadata.name, metric: metric.name, measurement }),
    value: '0.001',
    finishedAt: '2026-03-04T05:12:16Z',
  }),
  terminate: async (r, metric, measurement) => {
    throw new Error(JSON.stringify({ op: 'Terminate', run: r.metadata.name, metric: metric.name, measurement }));
  },
  garbageCollect: async (r, metric, limit) => {
    throw new Error(JSON.stringify({ op: 'GarbageCollect', run: r.metadata.name, metric: metric.name, limit }));
  },
  getMetadata: (metric) => ({ op: 'GetMetadata', metric: metric.name, plugin: JSON.stringify(metric.provider.plugin ?? null) }),
};

const server = await startPluginServer({ listen, router, metricProvider, callTimeoutMs: 30_000, logger: createLogger('debug') });
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
