// ModeDeps for building a mode as the sidecar does (src/modes/<mode>/mode.ts), from a test's settings, cluster
// and ELBv2 client; Events are dropped unless a sink is given, logs are silent.
import { KubeConfig } from '@kubernetes/client-node';
import type { Elbv2 } from '../../src/aws/elbv2.js';
import { createLogger } from '../../src/logger.js';
import type { ModeDeps } from '../../src/modes/deps.js';
import type { EventSink } from '../../src/plugin/hooks.js';
import type { Settings } from '../../src/settings.js';
import { createVerification } from '../../src/verify/wiring.js';

export function testModeDeps(settings: Settings, kubeConfig: KubeConfig, elbv2: Elbv2, events?: EventSink): ModeDeps {
  const v = createVerification(settings, { elbv2 });
  return {
    settings,
    kubeConfig,
    elbv2: v.elbv2,
    discovery: v.discovery,
    targets: v.targets,
    targetsEnabled: v.targetsEnabled,
    guard: v.guard,
    events: events ?? { emit() {} },
    logger: createLogger('silent'),
    verifyTimeoutMs: 20_000,
    onConflict() {},
    onReleaseOutcome() {},
  };
}

/** A kubeconfig naming a cluster nobody serves (port 1): modes can be built, any request fails at once. */
export function offlineKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}
