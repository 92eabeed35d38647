// Ping-pong, experiments and two Rollouts sharing one Ingress, under the real controller, the LBC and moto.
import { describe, expect, it } from 'vitest';
import { ingress, rollout, services } from './support/app.js';
import { canaryShare, Timeline } from './support/observe.js';
import type { Places } from './support/rules.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const OURS = 'alb.rollouts.argoproj-labs.io/managed-annotations';

describe.skipIf(e2eSkipped())('Ingress mode variants', () => {
  const { obs } = useStack();

  it('ping-pong: a full promotion, then a second rollout the other way round', async () => {
    const o = obs();
    const ns = await o.namespace('pingpong');
    await o.stack.apply(
      services(['pp-root', 'pp-ping', 'pp-pong'], 'pp') +
        ingress('pp', 'pp-root') +
        rollout('pp', 'pp', `
canary:
  pingPong: {pingService: pp-ping, pongService: pp-pong}
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: pp
        rootService: pp-root
        servicePort: 80
  steps:
  - setWeight: 25
  - pause: {duration: 3}
`),
      ns,
    );
    const first = await o.untilHealthy(ns, 'pp');
    const stableRole = (r: typeof first) => `pp-${r.status?.canary?.stablePingPong ?? 'ping'}`;
    const rule = () => o.albRules(ns, 'pp').then((rules) => rules.find((r) => 'pp-ping' in r.services || 'pp-pong' in r.services)?.services);
    const startRole = stableRole(first);
    await o.until(`the ALB at 100 % on ${startRole}`, async () => ((await rule())?.[startRole] === 100 ? true : undefined), 120_000, () => o.diagnose(ns, 'pp'));

    for (const image of ['registry.example.com/pp:2', 'registry.example.com/pp:3']) {
      const before = stableRole(await o.rollout(ns, 'pp'));
      const other = before === 'pp-ping' ? 'pp-pong' : 'pp-ping';
      // The ALB rules forward to the ping and pong target groups (the root Service is only the action's name).
      const places = async (): Promise<Places> => {
        const out: Places = {};
        for (const r of await o.albRules(ns, 'pp')) if ('pp-ping' in r.services || 'pp-pong' in r.services) out[`alb :${r.listenerPort}`] = r.services;
        return out;
      };
      const timeline = new Timeline(o, ns, 'pp', places);
      timeline.start();
      await o.setImage(ns, 'pp', image);
      await o.until(`25 % on ${other}`, async () => ((await rule())?.[other] === 25 ? true : undefined), 180_000, () => o.diagnose(ns, 'pp'));
      const done = await o.untilHealthy(ns, 'pp');
      await o.until(`100 % on ${other} (timeline)`, async () => ((await rule())?.[other] === 100 ? true : undefined), 120_000, () => o.diagnose(ns, 'pp'));
      await timeline.check({ canary: other, seen: [25, 100], minSamples: 10, minMidRollout: 3 });
      // The roles swapped and the ALB follows: everything on the new stable, no selector switch needed.
      expect(stableRole(done)).toBe(other);
      await o.until(`100 % on ${other}`, async () => ((await rule())?.[other] === 100 ? true : undefined), 120_000, () => o.diagnose(ns, 'pp'));
      const ips = await o.podIPs(ns, `rollouts-pod-template-hash=${done.status!.stableRS}`);
      await o.until(`${other}'s target group to hold the new pods`, async () => {
        const healthy = (await o.targets(ns, other)).filter((t) => t.state === 'healthy').map((t) => t.ip).sort();
        return JSON.stringify(healthy) === JSON.stringify(ips) ? true : undefined;
      });
    }
  });

  it('an experiment step with an additional destination gets its own weight next to canary and stable', async () => {
    const o = obs();
    const ns = await o.namespace('experiment');
    // Argo creates the experiment's Service with the container port, and writes one servicePort for every
    // target group: the Services must use the container port (8080) for the LBC to resolve them all.
    await o.stack.apply(
      services(['ex-stable', 'ex-canary'], 'ex', 8080) +
        ingress('ex', 'ex-stable') +
        rollout('ex', 'ex', `
canary:
  stableService: ex-stable
  canaryService: ex-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: ex
        servicePort: 8080
  steps:
  - setWeight: 10
  - experiment:
      duration: 30s
      templates:
      - name: baseline
        specRef: stable
        weight: 5
        service: {name: ex-baseline}
  - pause: {duration: 3}
`),
      ns,
    );
    await o.untilHealthy(ns, 'ex');
    const timeline = new Timeline(o, ns, 'ex', 'ex', 'ex-stable');
    timeline.start();
    await o.setImage(ns, 'ex', 'registry.example.com/ex:2');
    const weights = await o.until(
      'the experiment destination on the ALB',
      async () => {
        const w = await o.albWeights(ns, 'ex', 'ex-stable');
        return w && 'ex-baseline' in w ? w : undefined;
      },
      180_000,
      () => o.diagnose(ns, 'ex'),
    );
    expect(weights).toEqual({ 'ex-canary': 10, 'ex-baseline': 5, 'ex-stable': 85 });
    await o.untilHealthy(ns, 'ex');
    await o.until('the ALB back on stable only', async () => {
      const w = await o.albWeights(ns, 'ex', 'ex-stable');
      return w && !('ex-baseline' in w) && canaryShare(w, 'ex-canary') === 0 ? true : undefined;
    });
    await timeline.check({ canary: 'ex-canary', seen: [10], minSamples: 20, minMidRollout: 10 });
  });

  it('two Rollouts on one Ingress, each with its own action, each moved independently', async () => {
    const o = obs();
    const ns = await o.namespace('shared');
    const strategy = (name: string, weight: number) => `
canary:
  stableService: ${name}-stable
  canaryService: ${name}-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: shared
        servicePort: 80
  steps:
  - setWeight: ${weight}
  - pause: {}
`;
    const extraPath = `
      - path: /b
        pathType: Prefix
        backend: {service: {name: b-stable, port: {name: use-annotation}}}`;
    await o.stack.apply(
      services(['a-stable', 'a-canary'], 'a') +
        services(['b-stable', 'b-canary'], 'b') +
        ingress('shared', 'a-stable', extraPath) +
        rollout('a', 'a', strategy('a', 20)) +
        rollout('b', 'b', strategy('b', 60)),
      ns,
    );
    await Promise.all([o.untilHealthy(ns, 'a'), o.untilHealthy(ns, 'b')]);
    const timelines = { a: new Timeline(o, ns, 'a', 'shared', 'a-stable'), b: new Timeline(o, ns, 'b', 'shared', 'b-stable') };
    timelines.a.start();
    timelines.b.start();
    await o.setImage(ns, 'a', 'registry.example.com/a:2');
    await o.setImage(ns, 'b', 'registry.example.com/b:2');
    await o.until('a at 20 and b at 60 on one ALB', async () => {
      const a = canaryShare(await o.albWeights(ns, 'shared', 'a-stable'), 'a-canary');
      const b = canaryShare(await o.albWeights(ns, 'shared', 'b-stable'), 'b-canary');
      return a === 20 && b === 60 ? true : undefined;
    }, 180_000, () => o.diagnose(ns, 'a'));
    const ing = await o.ingress(ns, 'shared');
    expect(JSON.parse(ing.metadata!.annotations![OURS]!)).toEqual({
      a: ['alb.ingress.kubernetes.io/actions.a-stable'],
      b: ['alb.ingress.kubernetes.io/actions.b-stable'],
    });
    // Promoting one leaves the other where it is.
    // Both paused mid-rollout: let the timelines sample that before a moves on (a fast promotion left 4 samples once).
    const midRollout = (t: Timeline) => t.samples.filter((x) => x.step !== undefined && x.step < (x.steps ?? 0) && !x.abort && !x.fullyPromoted).length;
    await o.until('5 mid-rollout samples of a and of b', async () => (midRollout(timelines.a) >= 5 && midRollout(timelines.b) >= 5 ? true : undefined), 60_000);
    await o.promote(ns, 'a');
    await o.untilHealthy(ns, 'a');
    await o.until('a back at 0, b still at 60', async () => {
      const a = canaryShare(await o.albWeights(ns, 'shared', 'a-stable'), 'a-canary');
      const b = canaryShare(await o.albWeights(ns, 'shared', 'b-stable'), 'b-canary');
      return a === 0 && b === 60 ? true : undefined;
    });
    // Each action judged on its own: a's promotion never moved b's weights back, nor b's step a's.
    await timelines.a.check({ canary: 'a-canary', seen: [20], minSamples: 10, minMidRollout: 5 });
    await timelines.b.check({ canary: 'b-canary', seen: [60], minSamples: 10, minMidRollout: 5 });
  });
});
