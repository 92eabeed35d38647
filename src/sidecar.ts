// The composition root: builds every part of the sidecar from its settings, in dependency order, and
// returns one handle that closes them in reverse. Each step adds to `deps` so later parts (HTTP server,
// metrics, the AWS verifier, the Rollout watch) can be slotted in between without reshaping the rest.

import { KubeConfig } from '@kubernetes/client-node';
import { startPluginServer, type PluginServer, type PluginServerHooks } from './goplugin/server.js';
import { createGatewayReader, createGatewayRouter, createGatewayVerifier, createHTTPRouteClient, createServicePortReader, createServicePortsReader } from './gateway/index.js';
import { createIngressClient } from './k8s/ingress-client.js';
import { createLogger, type Logger } from './logger.js';
import type { Settings } from './settings.js';
import { createBindingReader, createListenerRuleRouter, type ListenerRuleRouter } from './listenerrule/index.js';
import { createIngressRouter } from './trafficrouter/ingress-router.js';
import { createModeRouter } from './trafficrouter/mode-router.js';
import { createNoopRouter } from './trafficrouter/noop-router.js';
import { createUnconfiguredMetricProvider } from './plugin/unconfigured-metric-provider.js';
import type { Rollout } from './core/rollout.js';
import type { TrafficRouter } from './trafficrouter/router.js';
import { CleanupController } from './cleanup/controller.js';
import { GatewayRouteCleanup } from './cleanup/gateway-routes.js';
import { ListenerRuleCleanup } from './cleanup/listener-rules.js';
import { createReleaser } from './cleanup/releaser.js';
import { startRolloutWatch, type RolloutWatch } from './cleanup/watch.js';
import { createEventSink, kubeEventWriter } from './events/sink.js';
import { countingVerifier, createMetrics, elbv2CallHook, pluginServerHooks, type Metrics } from './metrics.js';
import { buildServer, listenHttp } from './server/app.js';
import { listenerCheck } from './server/health.js';
import { kubeRolloutGetter, kubernetesCheck, requireKubernetes, withUserAgent } from './server/kube.js';
import { createRolloutReportSource } from './server/rollout-report.js';
import { targetGroupBindingApiCheck } from './verify/k8s-targets.js';
import { createVerification, verificationTimeoutMs } from './verify/wiring.js';

export interface Sidecar {
  /** host:port the go-plugin listener is bound to. */
  pluginAddress: string;
  /** URL of the HTTP server (health, metrics, JSON API). */
  httpAddress?: string;
  /** The router the go-plugin server dispatches Argo's calls to (Ingress and listener-rule mode by Rollout). */
  router: TrafficRouter;
  close(): Promise<void>;
}

export interface SidecarOverrides {
  logger?: Logger;
}

/** What the parts are built from; grows step by step in startSidecar. */
interface Deps {
  settings: Settings;
  logger: Logger;
  kubeConfig: KubeConfig;
  router?: TrafficRouter;
  listenerRule?: ListenerRuleRouter;
  pluginHooks?: PluginServerHooks;
  plugin?: PluginServer;
  metrics?: Metrics;
  rollouts?: RolloutWatch;
  cleanup?: CleanupController;
  httpAddress?: string;
}

function loadKubeConfig(settings: Settings): KubeConfig {
  const kc = new KubeConfig();
  if (settings.kubeconfig) kc.loadFromFile(settings.kubeconfig);
  else kc.loadFromDefault();
  return withUserAgent(kc);
}

export async function startSidecar(settings: Settings, overrides: SidecarOverrides = {}): Promise<Sidecar> {
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse().splice(0)) await c();
  };

  const deps: Deps = {
    settings,
    logger: overrides.logger ?? createLogger(settings.logLevel),
    kubeConfig: loadKubeConfig(settings),
  };

  try {
    // Without a reachable API server nothing can work: fail start-up with one sentence saying what is missing.
    await requireKubernetes(deps.kubeConfig, AbortSignal.timeout(10_000));
    const metrics = createMetrics({ processMetrics: true });
    deps.metrics = metrics;
    deps.pluginHooks = pluginServerHooks(metrics);
    const events = createEventSink({
      write: kubeEventWriter(deps.kubeConfig),
      logger: deps.logger,
      onEmitted: (reason) => metrics.eventsEmitted.inc({ reason }),
    });

    // Traffic router (Ingress annotations), talking to the Kubernetes API.
    const ingresses = createIngressClient(deps.kubeConfig, { onConflict: () => metrics.k8sPatchConflicts.inc({ resource: 'ingress' }) });
    const verification = createVerification(settings, {
      getIngress: (ns, name) => ingresses.get(ns, name),
      kubeConfig: deps.kubeConfig,
      events,
      log: deps.logger,
      onCall: elbv2CallHook(metrics),
    });
    const ingressRouter = createIngressRouter({
      ingresses,
      pluginName: settings.pluginName,
      albIngressClasses: settings.albIngressClasses,
      verifier: countingVerifier(verification.weights, metrics),
      guard: verification.guard,
      events,
    });
    // Listener-rule mode (load balancers managed outside Kubernetes) shares the one rate-limited, counted
    // ELBv2 client. Target verification, and with it the final-switch guard, only when it is turned on:
    // a verifier that can never answer would hold the final switch for good.
    const bindings = createBindingReader(deps.kubeConfig, settings.awsTargetGroupBindingApiVersion);
    const listenerRule = createListenerRuleRouter({
      elbv2: verification.elbv2,
      ...bindings,
      pluginName: settings.pluginName,
      logger: deps.logger.child({ part: 'listener-rule' }),
      ...(settings.awsVerifyTargetGroup ? { targets: verification.targets } : {}),
    });
    deps.listenerRule = listenerRule;
    // Gateway mode (HTTPRoutes the LBC builds into the Gateway's ALB): guarded JSON patches of the routes.
    // VerifyWeight reads the Gateway's ALB through the same ELBv2 client, when verification is on.
    const httpRoutes = createHTTPRouteClient(deps.kubeConfig, { onConflict: () => metrics.k8sPatchConflicts.inc({ resource: 'httproute' }) });
    const gatewayVerifier = createGatewayVerifier({
      enabled: settings.awsVerifyTargetGroup,
      elbv2: verification.elbv2,
      routes: httpRoutes,
      gateways: createGatewayReader(deps.kubeConfig, settings.awsTargetGroupBindingApiVersion),
      events,
      log: deps.logger.child({ part: 'gateway' }),
      timeoutMs: verificationTimeoutMs(settings.rpcTimeoutSeconds),
    });
    const gateway = createGatewayRouter({
      routes: httpRoutes,
      servicePort: createServicePortReader(deps.kubeConfig),
      servicePorts: createServicePortsReader(deps.kubeConfig),
      guard: verification.guard,
      pluginName: settings.pluginName,
      logger: deps.logger.child({ part: 'gateway' }),
      verifier: gatewayVerifier,
    });
    deps.router = createModeRouter({ pluginName: settings.pluginName, ingress: ingressRouter, listenerRule, gateway });

    // The no-op router exists only so bench/ can time the protocol path against a Go plugin.
    if (settings.benchNoopRouter) deps.router = createNoopRouter();

    // The go-plugin listener the handshake binary proxies Argo's connection to.
    deps.plugin = await startPluginServer({
      listen: settings.pluginListen,
      router: deps.router,
      // Argo's metricprovider plugin on the same listener; ALB analysis is not part of this build yet.
      metricProvider: createUnconfiguredMetricProvider(settings.metricPluginName),
      callTimeoutMs: settings.rpcTimeoutSeconds * 1000,
      logger: deps.logger,
      hooks: deps.pluginHooks,
    });
    const plugin = deps.plugin;
    closers.push(() => plugin.close());

    const getRolloutFromApi = kubeRolloutGetter(deps.kubeConfig);
    // Cleanup after Rollouts are deleted or stop naming an Ingress (Argo has no plugin call for that).
    if (settings.cleanup) {
      const releaser = createReleaser({
        ingresses,
        logger: deps.logger,
        onOutcome: (outcome) => metrics.cleanups.inc({ outcome }),
      });
      const cleanup = new CleanupController({
        pluginName: settings.pluginName,
        albIngressClasses: settings.albIngressClasses,
        releaser,
        logger: deps.logger,
        onDeleted: (r) => events.forget(r),
        readRollout: getRolloutFromApi,
        // The live router's release also drops what it cached about the Rollout.
        listenerRules: new ListenerRuleCleanup({
          pluginName: settings.pluginName,
          bindings,
          release: (r) => listenerRule.release(r),
          logger: deps.logger,
          onOutcome: (outcome) => metrics.cleanups.inc({ outcome }),
        }),
        gatewayRoutes: new GatewayRouteCleanup({
          pluginName: settings.pluginName,
          release: (r) => gateway.release(r),
          logger: deps.logger,
          onOutcome: (outcome) => metrics.cleanups.inc({ outcome }),
        }),
      });
      deps.cleanup = cleanup;
      const rollouts = startRolloutWatch({ kc: deps.kubeConfig, controller: cleanup, logger: deps.logger, sweepEveryMs: settings.cleanupSweepSeconds * 1000 });
      deps.rollouts = rollouts;
      closers.push(() => rollouts.stop());
    }

    // HTTP: health, readiness, metrics and the read-only verification API.
    const app = buildServer({
      registry: metrics.registry,
      pluginName: settings.pluginName,
      logger: deps.logger,
      // With verification on, a missing TargetGroupBinding API would make every target check fail: not ready.
      readiness: [
        listenerCheck('plugin-listener', plugin),
        kubernetesCheck(deps.kubeConfig),
        ...(settings.awsVerifyTargetGroup ? [targetGroupBindingApiCheck(deps.kubeConfig, settings.awsTargetGroupBindingApiVersion)] : []),
      ],
      reports: createRolloutReportSource({
        pluginName: settings.pluginName,
        // Always the API server's copy: a verdict an AnalysisRun gates on must judge the weights the Rollout
        // wants now; a copy that lags the API server would judge the previous step's weights.
        getRollout: (ns, name) => getRolloutFromApi(ns, name),
        weights: verification.weights,
        targets: verification.targets,
        ingressHostnames: async (ns, name) =>
          ((await ingresses.get(ns, name)).status?.loadBalancer?.ingress ?? []).map((i) => i.hostname ?? '').filter((h) => h !== ''),
        listenerRule: {
          weightReport: (r, desired, extra) => listenerRule.weightReport(r, desired, extra),
          // Target groups as for VerifyWeight: checked only with --aws-verify-target-group.
          ...(settings.awsVerifyTargetGroup ? { targetsReport: (r: Rollout) => listenerRule.targetsReport(r) } : {}),
        },
        // The API checks the ALB as Ingress mode's does, whether or not VerifyWeight does.
        gateway: { report: (config, desired, signal) => gatewayVerifier.report(config, desired, signal) },
      }),
    });
    closers.push(() => app.close());
    deps.httpAddress = await listenHttp(app, settings.httpListen);
  } catch (err) {
    await close();
    throw err;
  }

  deps.logger.info({ pluginName: settings.pluginName, pluginAddress: deps.plugin.address, httpAddress: deps.httpAddress }, 'sidecar started');
  return { pluginAddress: deps.plugin.address, httpAddress: deps.httpAddress, router: deps.router, close };
}
