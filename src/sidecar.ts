// The composition root: builds every part of the sidecar from its settings, in dependency order, and
// returns one handle that closes them in reverse: the shared verification, the modes (src/modes/index.ts)
// behind one mode table, the ALB analysis (metric provider), the go-plugin server, the cleanup watch and the
// HTTP server.

import { createCloudWatch } from './analysis/cloudwatch.js';
import { createAlbMetricProvider } from './analysis/provider.js';
import { CleanupController } from './cleanup/controller.js';
import { startRolloutWatch } from './cleanup/watch.js';
import { createEventSink, kubeEventWriter } from './events/sink.js';
import { startPluginServer } from './goplugin/server.js';
import { createIngressClient } from './k8s/ingress-client.js';
import { loadKubeAccess } from './k8s/kube-config.js';
import { startLeadership, whileLeader } from './leadership/index.js';
import { createLogger, type Logger } from './logger.js';
import { cloudwatchCallHook, countingRouter, createMetrics, elbv2CallHook, pluginServerHooks } from './metrics.js';
import { MODES, type ModeDeps } from './modes/index.js';
import { createModeRouter } from './plugin/mode-router.js';
import { ModeTable } from './plugin/mode-table.js';
import { createNoopRouter } from './plugin/noop-router.js';
import type { TrafficRouter } from './plugin/router.js';
import { buildServer, listenHttp } from './server/app.js';
import { infoCheck, listenerCheck } from './server/health.js';
import { withWriteCounter } from './k8s/writes.js';
import { kubeRolloutGetter, kubernetesCheck, requireKubernetes } from './server/kube.js';
import { createRolloutReportSource } from './server/rollout-report.js';
import type { Settings } from './settings.js';
import { createAlbStatusUpdater, withAlbStatus } from './status/updater.js';
import { createRolloutStatusClient } from './k8s/rollout-status.js';
import { targetGroupBindingApiCheck } from './verify/k8s-targets.js';
import { createVerification, verificationTimeoutMs } from './verify/wiring.js';

export interface Sidecar {
  /** host:port the go-plugin listener is bound to. */
  pluginAddress: string;
  /** URL of the HTTP server (health, metrics, JSON API). */
  httpAddress?: string;
  /** The router the go-plugin server dispatches Argo's calls to (each Rollout's mode). */
  router: TrafficRouter;
  close(): Promise<void>;
}

export interface SidecarOverrides {
  logger?: Logger;
}

export async function startSidecar(settings: Settings, overrides: SidecarOverrides = {}): Promise<Sidecar> {
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse().splice(0)) await c();
  };
  const logger = overrides.logger ?? createLogger(settings.logLevel);
  // Every Kubernetes request goes through k8s/kube-api.ts, which sends the plugin's User-Agent.
  const kubeConfig = await loadKubeAccess(settings.kubeconfig);
  let pluginAddress: string;
  let httpAddress: string;
  let router: TrafficRouter;

  try {
    // Without a reachable API server nothing can work: fail start-up with one sentence saying what is missing.
    await requireKubernetes(kubeConfig, AbortSignal.timeout(10_000));
    const metrics = createMetrics({ processMetrics: true });
    // Before any client is built from it: every client then counts its writes.
    withWriteCounter(kubeConfig, (verb, resource) => metrics.k8sWrites.inc({ verb, resource }));
    const events = createEventSink({
      write: kubeEventWriter(kubeConfig),
      logger,
      onEmitted: (reason) => metrics.eventsEmitted.inc({ reason }),
    });

    // What every mode shares: one rate-limited, counted ELBv2 client and one discovery over it, target
    // verification, the final-switch guard.
    const verification = createVerification(settings, { kubeConfig, log: logger, onCall: elbv2CallHook(metrics) });
    const modeDeps: ModeDeps = {
      settings,
      kubeConfig,
      elbv2: verification.elbv2,
      discovery: verification.discovery,
      targets: verification.targets,
      targetsEnabled: verification.targetsEnabled,
      guard: verification.guard,
      events,
      logger,
      verifyTimeoutMs: verificationTimeoutMs(settings.rpcTimeoutSeconds),
      onConflict: (resource) => metrics.k8sPatchConflicts.inc({ resource }),
      onReleaseOutcome: (outcome) => metrics.cleanups.inc({ outcome }),
    };
    const modes = new ModeTable(settings.pluginName, MODES.map((make) => make(modeDeps)));
    // status.alb(s) as Argo's built-in router fills them, after each VerifyWeight that checked the load balancer.
    const albStatus = createAlbStatusUpdater({ modes, client: createRolloutStatusClient(kubeConfig), logger });
    router = withAlbStatus(countingRouter(createModeRouter(modes), metrics), albStatus);
    // The no-op router exists only so bench/ can time the protocol path against a Go plugin.
    if (settings.benchNoopRouter) router = createNoopRouter();

    const getRolloutFromApi = kubeRolloutGetter(kubeConfig);

    // ALB analysis (Argo's metricprovider plugin on the same listener): its own CloudWatch client, built once,
    // with its own endpoint and rate budget, so measurements never spend ELBv2 verification's; the Rollout's
    // load balancers come from its mode (one warm DescribeRules on the shared ELBv2 client).
    const metricProvider = createAlbMetricProvider({
      metricPluginName: settings.metricPluginName,
      modes,
      // Always the API server's copy: the weights and load balancers of the Rollout as it is now.
      getRollout: (ns, name) => getRolloutFromApi(ns, name),
      cloudwatch: createCloudWatch({
        ...(settings.awsRegion ? { region: settings.awsRegion } : {}),
        ...(settings.cloudwatchEndpoint ? { endpoint: settings.cloudwatchEndpoint } : {}),
        rateLimit: settings.cloudwatchRateLimit,
        rateBurst: settings.cloudwatchRateBurst,
        onCall: cloudwatchCallHook(metrics),
      }),
      verificationEnabled: settings.awsVerifyTargetGroup,
      log: logger,
    });

    // The go-plugin listener the handshake binary proxies Argo's connection to.
    const plugin = await startPluginServer({
      listen: settings.pluginListen,
      router,
      metricProvider,
      callTimeoutMs: settings.rpcTimeoutSeconds * 1000,
      logger,
      hooks: pluginServerHooks(metrics),
    });
    pluginAddress = plugin.address;
    closers.push(() => plugin.close());

    // Leadership follows the controller's leader Lease (src/leadership): the background work below runs only
    // in the sidecar whose controller leads. Argo's calls are not gated: only the leader's controller makes them.
    const leadership = startLeadership(settings, kubeConfig, logger);
    closers.push(() => leadership.stop());
    metrics.leader.set(leadership.isLeader() ? 1 : 0);
    leadership.onChange((leader) => metrics.leader.set(leader ? 1 : 0));

    // Cleanup after Rollouts are deleted or leave what they held (Argo has no plugin call for that). Each term
    // of leadership starts cold: the modes forget what they remembered, and a new watch lists every Rollout.
    if (settings.cleanup) {
      const background = whileLeader(leadership, 'Rollout watch and cleanup sweeps', () => {
        for (const m of modes.modes) m.cleanup.reset?.();
        const cleanup = new CleanupController({ modes, logger, onDeleted: (r) => events.forget(r), readRollout: getRolloutFromApi });
        return startRolloutWatch({ kc: kubeConfig, controller: cleanup, logger, sweepEveryMs: settings.cleanupSweepSeconds * 1000 });
      }, logger);
      closers.push(() => background.stop());
    }

    // HTTP: health, readiness, metrics and the read-only verification API.
    const ingresses = createIngressClient(kubeConfig);
    const app = buildServer({
      registry: metrics.registry,
      pluginName: settings.pluginName,
      logger,
      apiAllowRemote: settings.apiAllowRemote,
      // With verification on, a missing TargetGroupBinding API would make every target check fail: not ready.
      readiness: [
        listenerCheck('plugin-listener', plugin),
        kubernetesCheck(kubeConfig),
        // A standby is ready (it serves health, metrics, the API and Argo's calls); the detail says which it is.
        infoCheck('leadership', () => leadership.describe()),
        ...(settings.awsVerifyTargetGroup ? [targetGroupBindingApiCheck(kubeConfig, settings.awsTargetGroupBindingApiVersion)] : []),
      ],
      reports: createRolloutReportSource({
        modes,
        // Always the API server's copy: a verdict an AnalysisRun gates on must judge the weights the Rollout
        // wants now; a copy that lags the API server would judge the previous step's weights.
        getRollout: (ns, name) => getRolloutFromApi(ns, name),
        targets: verification.targets,
        ingressHostnames: async (ns, name) =>
          ((await ingresses.get(ns, name)).status?.loadBalancer?.ingress ?? []).map((i) => i.hostname ?? '').filter((h) => h !== ''),
      }),
    });
    closers.push(() => app.close());
    httpAddress = await listenHttp(app, settings.httpListen);
  } catch (err) {
    await close();
    throw err;
  }

  logger.info({ pluginName: settings.pluginName, pluginAddress, httpAddress }, 'sidecar started');
  return { pluginAddress, httpAddress, router, close };
}
