// A cleanup controller over the modes' real cleanups, for tests: the mode table is the sidecar's rule (the
// modes' own claims and parsers, in src/modes/index.ts order) with a router that must not be called, and the
// Ingress sweep lists the Ingresses a test hands to `sweep`.
import { CleanupController } from '../../src/cleanup/controller.js';
import type { Rollout } from '../../src/core/rollout.js';
import type { Ingress } from '../../src/k8s/ingress.js';
import type { Logger } from '../../src/logger.js';
import { isGatewayBlock, parseGatewayConfig } from '../../src/modes/gateway/config.js';
import { IngressCleanup } from '../../src/modes/ingress/cleanup.js';
import type { Releaser } from '../../src/modes/ingress/releaser.js';
import { rolloutContext } from '../../src/modes/ingress/view.js';
import { parseListenerRuleConfig } from '../../src/modes/listener-rule/config.js';
import type { Mode, ModeCleanup, ReleaseOutcome } from '../../src/plugin/mode.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import type { TrafficRouter } from '../../src/plugin/router.js';

const idle: ModeCleanup = { changed: async () => [], deleted: async () => [], sweep: async () => [] };

const noRouter = new Proxy({} as TrafficRouter, {
  get: (_t, verb) => () => {
    throw new Error(`test mode router: ${String(verb)} is not for cleanup tests`);
  },
});

function readable(parse: (r: Rollout) => unknown): (r: Rollout) => boolean {
  return (r) => {
    try {
      parse(r);
      return true;
    } catch {
      return false;
    }
  };
}

function mode(name: string, claims: Mode['claims'], isReadable: (r: Rollout) => boolean, cleanup: ModeCleanup | undefined): Mode {
  return { name, claims, readable: isReadable, router: noRouter, cleanup: cleanup ?? idle, report: () => Promise.reject(new Error('no report in cleanup tests')), albTargets: async () => [] };
}

export function testModeTable(pluginName: string, cleanups: { ingress?: ModeCleanup; listenerRule?: ModeCleanup; gateway?: ModeCleanup }): ModeTable {
  return new ModeTable(pluginName, [
    mode('gateway', (b) => isGatewayBlock(b), readable((r) => parseGatewayConfig(r, pluginName)), cleanups.gateway),
    mode('listener-rule', (b) => b.listenerRule !== undefined, readable((r) => parseListenerRuleConfig(r, pluginName)), cleanups.listenerRule),
    mode('ingress', () => true, readable((r) => rolloutContext(r, pluginName)), cleanups.ingress),
  ]);
}

export interface TestCleanupOptions {
  pluginName: string;
  albIngressClasses: readonly string[];
  releaser: Releaser;
  listenerRules?: ModeCleanup;
  gatewayRoutes?: ModeCleanup;
  readRollout?: (namespace: string, name: string) => Promise<Rollout | undefined>;
  onDeleted?: (rollout: Rollout) => void;
  logger?: Logger;
  maxTombstones?: number;
  /** The Ingresses the sweep lists (default: those handed to `sweep`). */
  listIngresses?: () => Promise<Ingress[]>;
}

/** The controller as the sidecar builds it; `sweep(ingresses)` runs one sweep with those Ingresses listed. */
export interface TestCleanup {
  controller: CleanupController;
  upsert(rollout: Rollout): Promise<ReleaseOutcome[]>;
  remove(rollout: Rollout): Promise<ReleaseOutcome[]>;
  get(namespace: string, name: string): Rollout | undefined;
  sweep(ingresses: readonly Ingress[]): Promise<ReleaseOutcome[]>;
}

export function testCleanup(opts: TestCleanupOptions): TestCleanup {
  let listed: readonly Ingress[] = [];
  const ingress = new IngressCleanup({
    pluginName: opts.pluginName,
    albIngressClasses: opts.albIngressClasses,
    releaser: opts.releaser,
    listIngresses: opts.listIngresses ?? (async () => [...listed]),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.maxTombstones !== undefined ? { maxTombstones: opts.maxTombstones } : {}),
  });
  const controller = new CleanupController({
    modes: testModeTable(opts.pluginName, {
      ingress,
      ...(opts.listenerRules ? { listenerRule: opts.listenerRules } : {}),
      ...(opts.gatewayRoutes ? { gateway: opts.gatewayRoutes } : {}),
    }),
    ...(opts.readRollout ? { readRollout: opts.readRollout } : {}),
    ...(opts.onDeleted ? { onDeleted: opts.onDeleted } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return {
    controller,
    upsert: (r) => controller.upsert(r),
    remove: (r) => controller.remove(r),
    get: (ns, name) => controller.get(ns, name),
    sweep(ingresses) {
      listed = ingresses;
      return controller.sweep();
    },
  };
}
