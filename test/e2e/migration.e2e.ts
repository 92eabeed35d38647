// Moving a Rollout from Argo's built-in trafficRouting.alb to the plugin and back, at full promotion, with
// Argo's own Ingress controller running (default flags): the ALB's weights never move, and the two writers
// never fight over the Ingress.
import { describe, expect, it } from 'vitest';
import { ingress, rollout, services } from './support/app.js';
import { canaryShare, IngressRecorder, Timeline } from './support/observe.js';
import { sleep } from '../support/processes.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const ACTION = 'alb.ingress.kubernetes.io/actions.mig-stable';
const OURS = 'alb.rollouts.argoproj-labs.io/managed-annotations';
const ARGOS = 'rollouts.argoproj.io/managed-alb-annotations';

describe.skipIf(e2eSkipped())('migration between trafficRouting.alb and the plugin', () => {
  const { obs } = useStack();

  it('alb: → plugins: → alb: at full promotion: no weight change on the ALB, no write fight', async () => {
    const o = obs();
    const ns = await o.namespace('migration');
    await o.stack.apply(
      services(['mig-stable', 'mig-canary'], 'mig') +
        ingress('mig', 'mig-stable') +
        rollout('mig', 'mig', `
canary:
  stableService: mig-stable
  canaryService: mig-canary
  trafficRouting:
    alb:
      ingress: mig
      servicePort: 80
  steps:
  - setWeight: 30
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'mig');
    const builtIn = await o.until('Argo\'s built-in router to write the action', async () => {
      const a = (await o.ingress(ns, 'mig')).metadata?.annotations ?? {};
      return a[ACTION] && a[ARGOS] ? a : undefined;
    }, 120_000, () => o.diagnose(ns, 'mig'));
    await o.until('the ALB rule', () => o.albWeights(ns, 'mig', 'mig-stable'), 120_000, () => o.diagnose(ns, 'mig'));

    const rec = new IngressRecorder(o.stack, ns);
    await rec.start();
    const timeline = new Timeline(o, ns, 'mig', 'mig', 'mig-stable');
    timeline.start();

    // To the plugin: rename the block, as docs/operations.md says.
    await o.patchRollout(ns, 'mig', {
      spec: { strategy: { canary: { trafficRouting: { alb: null, plugins: { [PLUGIN]: { ingress: 'mig', servicePort: 80 } } } } } },
    });
    const handedOver = await o.until('the plugin to take the Ingress over', async () => {
      const a = (await o.ingress(ns, 'mig')).metadata?.annotations ?? {};
      return a[OURS] && a[ARGOS] === undefined ? a : undefined;
    }, 120_000, () => o.diagnose(ns, 'mig'));
    expect(JSON.parse(handedOver[OURS]!)).toEqual({ mig: [ACTION] });
    expect(handedOver[ACTION]).toBe(builtIn[ACTION]);
    await o.untilHealthy(ns, 'mig');
    // Quiet afterwards: a fight would keep adding revisions.
    await sleep(8000);
    const afterToPlugin = rec.revisions.get('mig')?.length ?? 0;
    await sleep(5000);
    expect(rec.revisions.get('mig')?.length ?? 0).toBe(afterToPlugin);

    // And back to the built-in router.
    await o.patchRollout(ns, 'mig', {
      spec: { strategy: { canary: { trafficRouting: { plugins: null, alb: { ingress: 'mig', servicePort: 80 } } } } },
    });
    const back = await o.until('Argo to own the Ingress again and the plugin to let go', async () => {
      const a = (await o.ingress(ns, 'mig')).metadata?.annotations ?? {};
      return a[OURS] === undefined && a[ARGOS] ? a : undefined;
    }, 120_000, () => o.diagnose(ns, 'mig'));
    expect(JSON.parse(back[ARGOS]!)).toEqual({ mig: [ACTION] });
    await sleep(8000);
    const afterBack = rec.revisions.get('mig')?.length ?? 0;
    await sleep(5000);
    expect(rec.revisions.get('mig')?.length ?? 0).toBe(afterBack);

    const samples = await timeline.stop();
    rec.stop();
    // The action annotation kept the same bytes through both moves, and the ALB stayed at 100 % stable.
    expect(rec.values('mig', ACTION)).toEqual([builtIn[ACTION]]);
    const shares = samples.map((s) => canaryShare(s.alb, 'mig-canary'));
    expect(shares.length).toBeGreaterThan(10);
    expect(new Set(shares)).toEqual(new Set([0]));
    // Every revision in between: who wrote it, and the bookkeeping only.
    const revisions = rec.revisions.get('mig') ?? [];
    expect(revisions.length, JSON.stringify(revisions)).toBeLessThanOrEqual(4);

    // The built-in router drives it again, and the sidecar stays out of it.
    await o.setImage(ns, 'mig', 'registry.example.com/mig:2');
    await o.until('the built-in router at canary 30', async () => (canaryShare(await o.albWeights(ns, 'mig', 'mig-stable'), 'mig-canary') === 30 ? true : undefined), 180_000, () => o.diagnose(ns, 'mig'));
    expect((await o.ingress(ns, 'mig')).metadata?.annotations?.[OURS]).toBeUndefined();
  });
});
