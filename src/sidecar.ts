// The composition root: builds every part of the sidecar from its settings, in dependency order, and
// returns one handle that closes them in reverse. Each step adds to `deps` so later parts (HTTP server,
// metrics, the AWS verifier, the Rollout watch) can be slotted in between without reshaping the rest.

import { KubeConfig } from '@kubernetes/client-node';
import { startPluginServer, type PluginServer, type PluginServerHooks } from './goplugin/server.js';
import { createIngressClient } from './k8s/ingress-client.js';
import { createLogger, type Logger } from './logger.js';
import type { Settings } from './settings.js';
import { createIngressRouter } from './trafficrouter/ingress-router.js';
import type { TrafficRouter } from './trafficrouter/router.js';

export interface Sidecar {
  /** host:port the go-plugin listener is bound to. */
  pluginAddress: string;
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
  pluginHooks?: PluginServerHooks;
  plugin?: PluginServer;
}

function loadKubeConfig(settings: Settings): KubeConfig {
  const kc = new KubeConfig();
  if (settings.kubeconfig) kc.loadFromFile(settings.kubeconfig);
  else kc.loadFromDefault();
  return kc;
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
    // Traffic router (Ingress annotations), talking to the Kubernetes API.
    const ingresses = createIngressClient(deps.kubeConfig);
    deps.router = createIngressRouter({
      ingresses,
      pluginName: settings.pluginName,
      albIngressClasses: settings.albIngressClasses,
    });

    // The go-plugin listener the handshake binary proxies Argo's connection to.
    deps.plugin = await startPluginServer({
      listen: settings.pluginListen,
      router: deps.router,
      callTimeoutMs: settings.rpcTimeoutSeconds * 1000,
      logger: deps.logger,
      hooks: deps.pluginHooks,
    });
    const plugin = deps.plugin;
    closers.push(() => plugin.close());
  } catch (err) {
    await close();
    throw err;
  }

  deps.logger.info({ pluginName: settings.pluginName, pluginAddress: deps.plugin.address }, 'sidecar started');
  return { pluginAddress: deps.plugin.address, close };
}
