// The sidecar killed mid-rollout and restarted, and the controller restarted: the rollout resumes and no step
// advances before the ALB carries its weight.
import { describe, expect, it } from 'vitest';
import { ingress, rollout, services } from './support/app.js';
import { canaryShare, Timeline } from './support/observe.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

describe.skipIf(e2eSkipped())('restarts mid-rollout', () => {
  const { obs } = useStack();

  it('sidecar SIGKILLed at 20 %, controller restarted at 60 %: the rollout completes, verified at each step', async () => {
    const o = obs();
    const ns = await o.namespace('restart');
    await o.stack.apply(
      services(['rs-stable', 'rs-canary'], 'rs') +
        ingress('rs', 'rs-stable') +
        rollout('rs', 'rs', `
canary:
  stableService: rs-stable
  canaryService: rs-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: rs
        servicePort: 80
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 60
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'rs');
    await o.until('the ALB rule', () => o.albWeights(ns, 'rs', 'rs-stable'), 120_000, () => o.diagnose(ns, 'rs'));
    const timeline = new Timeline(o, ns, 'rs', 'rs', 'rs-stable');
    timeline.start();
    await o.setImage(ns, 'rs', 'registry.example.com/rs:2');
    const atStep = (i: number) => async () => ((await o.rollout(ns, 'rs')).status?.currentStepIndex === i ? true : undefined);
    await o.until('the pause after 20 %', atStep(1), 180_000, () => o.diagnose(ns, 'rs'));

    await o.stack.restartSidecar('SIGKILL');
    await o.promote(ns, 'rs');
    await o.until('the pause after 60 %', atStep(3), 180_000, () => o.diagnose(ns, 'rs'));
    expect(canaryShare(await o.albWeights(ns, 'rs', 'rs-stable'), 'rs-canary')).toBe(60);

    await o.stack.restartController('SIGTERM');
    await o.promote(ns, 'rs');
    await o.untilHealthy(ns, 'rs', 240_000);
    await o.until('the ALB back at canary 0', async () => (canaryShare(await o.albWeights(ns, 'rs', 'rs-stable'), 'rs-canary') === 0 ? true : undefined));
    // The shared rules over every sample: read errors fail, enough samples, no step past a setWeight before every
    // action rule of the ALB carries it, no revert mid-rollout (a restarted sidecar must not start from 0), and
    // both steps' weights were seen on the ALB.
    const samples = await timeline.check({ canary: 'rs-canary', seen: [20, 60], minSamples: 30, minMidRollout: 20 });
    expect(canaryShare(samples.at(-1)!.alb, 'rs-canary')).toBe(0);
    await o.untilApiVerified(ns, 'rs');
  });
});
