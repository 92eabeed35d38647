// Ingress mode at its edges, under the real controller, the LBC and moto, with the ELBv2 proxy standing in for what
// moto never does (target health while AWS registers targets, a slow or failing listener write):
//   * the final-switch guard end to end: the new stable pods `initial`, then `unhealthy`, in the stable target group
//     hold the ALB on the canary, and the switch to stable happens only once they are healthy;
//   * a second listener added to the Ingress mid-rollout: no step is verified before the rules of BOTH listeners
//     carry its weight.
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ingress, rollout, services } from './support/app.js';
import { acmCertificate } from './support/aws.js';
import { canaryShare, poll, Timeline } from './support/observe.js';
import { sleep } from '../support/processes.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const HASH = 'rollouts-pod-template-hash';

describe.skipIf(e2eSkipped())('Ingress mode at its edges', () => {
  const { obs } = useStack();

  it('final switch: the ALB stays on the canary while the new stable pods are initial, then unhealthy, in the stable target group, and switches once they are healthy', async () => {
    const o = obs();
    const { proxy } = o.stack;
    const core = o.stack.admin.makeApiClient(CoreV1Api);
    const ns = await o.namespace('guard');
    await o.stack.apply(
      services(['fs-stable', 'fs-canary'], 'fs') +
        ingress('fs', 'fs-stable') +
        rollout('fs', 'fs', `
canary:
  stableService: fs-stable
  canaryService: fs-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: fs
        servicePort: 80
  steps:
  - setWeight: 50
  - pause: {}
`),
      ns,
    );
    const first = await o.untilHealthy(ns, 'fs');
    const oldHash = first.status!.stableRS!;
    await o.until('the ALB rule', () => o.albWeights(ns, 'fs', 'fs-stable'), 120_000, () => o.diagnose(ns, 'fs'));
    await o.setImage(ns, 'fs', 'registry.example.com/fs:2');
    await o.untilPaused(ns, 'fs');
    await o.until('the ALB at canary 50', async () => (canaryShare(await o.albWeights(ns, 'fs', 'fs-stable'), 'fs-canary') === 50 ? true : undefined), 120_000, () => o.diagnose(ns, 'fs'));
    const newHash = (await o.rollout(ns, 'fs')).status!.currentPodHash!;

    // What AWS reports while it registers targets: every pod of the new ReplicaSet (the one there now and the one
    // the promotion adds) is `initial` wherever it is registered, until released below.
    let state: { state: string; reason: string } | undefined = { state: 'initial', reason: 'Elb.RegistrationInProgress' };
    const marked = new Set<string>();
    let marking = true;
    const marker = (async () => {
      while (marking) {
        for (const ip of await o.podIPs(ns, `${HASH}=${newHash}`)) marked.add(ip);
        for (const ip of marked) proxy.setHealth(ip, state);
        await sleep(100);
      }
    })();
    onTestFinished(async () => {
      marking = false;
      await marker;
      for (const ip of marked) proxy.setHealth(ip, undefined);
    });
    const timeline = new Timeline(o, ns, 'fs', 'fs', 'fs-stable');
    timeline.start();
    await o.promote(ns, 'fs');

    // Argo moves all traffic to the canary, verifies it, switches the stable Service to the new pods and asks for the
    // final switch (SetWeight 0), which the guard refuses with its reason.
    await o.until('the stable Service on the new pods and the guard holding', async () => {
      const svc = await core.readNamespacedService({ namespace: ns, name: 'fs-stable' });
      const held = (await o.events(ns, 'fs')).some((e) => e.message.includes('holding traffic on the canary'));
      return svc.spec?.selector?.[HASH] === newHash && held ? true : undefined;
    }, 120_000, () => o.diagnose(ns, 'fs'));
    const hold = async (state: string, ms: number) => {
      const since = Date.now();
      return poll(
        `the hold while the new stable pods are ${state}`,
        async () => {
          const share = canaryShare(await o.albWeights(ns, 'fs', 'fs-stable'), 'fs-canary');
          const oldPods = (await o.podIPs(ns, `${HASH}=${oldHash}`)).length;
          const ro = (await o.rollout(ns, 'fs')).status;
          return { share, oldPods, phase: ro?.phase, stableRS: ro?.stableRS, weight: ro?.canary?.weights?.canary.weight };
        },
        () => Date.now() - since > ms,
        { minSamples: 10, timeoutMs: ms + 60_000 },
      );
    };
    // Together longer than Argo's scaleDownDelaySeconds (30 s): the old pods staying proves the hold, not the delay.
    const initial = await hold('initial', 18_000);
    state = { state: 'unhealthy', reason: 'Target.FailedHealthChecks' };
    const unhealthy = await hold('unhealthy', 18_000);
    // Held: all traffic on the canary target group (the new pods, healthy there as far as the ALB goes), the old pods
    // not scaled down, the Rollout not complete.
    for (const s of [...initial, ...unhealthy]) {
      expect(s.share, JSON.stringify(s)).toBe(100);
      expect(s.oldPods, JSON.stringify(s)).toBe(2);
      // Argo's own record of the traffic: still all on the canary (the final SetWeight 0 has not gone through).
      expect(s.weight, JSON.stringify(s)).toBe(100);
    }
    console.log(`guard hold: ${initial.length} samples initial, ${unhealthy.length} unhealthy; last ${JSON.stringify(unhealthy.at(-1))}`);
    console.log(`events during the hold: ${JSON.stringify((await o.events(ns, 'fs')).map((e) => `${e.reason}: ${e.message.slice(0, 160)}`))}`);
    const reasons = (await o.events(ns, 'fs')).filter((e) => e.message.includes('holding traffic on the canary')).map((e) => e.message);
    expect(reasons.join('\n')).toMatch(/fs-stable/);

    // Healthy: the guard lets the switch through.
    expect([...marked], 'both new pods were reported initial/unhealthy').toHaveLength(2);
    const released = Date.now();
    state = undefined;
    await sleep(300);
    marking = false;
    await marker;
    for (const ip of marked) proxy.setHealth(ip, undefined);
    await o.until('the ALB on the new stable', async () => (canaryShare(await o.albWeights(ns, 'fs', 'fs-stable'), 'fs-canary') === 0 ? true : undefined), 120_000, () => o.diagnose(ns, 'fs'));
    console.log(`final switch ${Date.now() - released} ms after the targets turned healthy`);
    const done = await o.untilHealthy(ns, 'fs');
    expect(done.status!.stableRS).toBe(newHash);
    const samples = await timeline.stop();
    // Never on the stable target group before release: every sample at canary < 100 after it first reached 100 came
    // after the release.
    const reached = samples.findIndex((s) => canaryShare(s.alb, 'fs-canary') === 100);
    expect(reached, JSON.stringify(samples.slice(0, 5))).toBeGreaterThanOrEqual(0);
    for (const s of samples.slice(reached)) if (canaryShare(s.alb, 'fs-canary') !== 100) expect(s.at, JSON.stringify(s)).toBeGreaterThan(released);
    await o.until('the old pods gone', async () => ((await o.podIPs(ns, `${HASH}=${oldHash}`)).length === 0 ? true : undefined), 120_000);
  });

  it('a second listener (HTTPS) added mid-rollout: no step is verified before the rules of both listeners carry its weight', async () => {
    const o = obs();
    const { proxy } = o.stack;
    const ns = await o.namespace('listeners');
    const cert = await acmCertificate(o.stack.moto.endpoint, 'shop.example.com');
    await o.stack.apply(
      services(['ls-stable', 'ls-canary'], 'ls') +
        ingress('ls', 'ls-stable', '', { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}]' }) +
        rollout('ls', 'ls', `
canary:
  stableService: ls-stable
  canaryService: ls-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: ls
        servicePort: 80
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 50
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'ls');
    const places = () => o.ingressPlaces(ns, 'ls', 'ls-stable');
    await o.until('the ALB rule on :80', async () => (Object.keys(await places()).length === 1 ? true : undefined), 120_000, () => o.diagnose(ns, 'ls'));
    const http = (await o.albRules(ns, 'ls')).find((r) => r.listenerPort === 80)!;
    // `listener-rule/app/<lb>/<id>/<listener id>/<rule id>`: the :80 listener's part of its rules' ARNs.
    const http80 = http.ruleArn.split(':listener-rule/')[1]!.split('/').slice(0, 4).join('/');

    const timeline = new Timeline(o, ns, 'ls', places);
    timeline.start();
    await o.setImage(ns, 'ls', 'registry.example.com/ls:2');
    await o.untilPaused(ns, 'ls');
    await o.until('the ALB at canary 20', async () => (canaryShare(await o.albWeights(ns, 'ls', 'ls-stable'), 'ls-canary') === 20 ? true : undefined), 120_000, () => o.diagnose(ns, 'ls'));

    // The HTTPS listener is added while the Rollout waits at 20 %; AWS takes a while to create it (the proxy holds
    // CreateListener), and its rule then lags behind the :80 one (the proxy fails the LBC's ModifyRule on any rule
    // not on :80) until the test lets it through.
    proxy.delay('CreateListener', 6000);
    proxy.failWhen('lagging listener', (action, params) => action === 'ModifyRule' && !(params.get('RuleArn') ?? '').includes(http80), {
      // A 4xx the SDK does not retry: the LBC's reconcile fails at once and is queued again (in a random listener order).
      status: 400,
      code: 'ValidationError',
      message: 'injected: this listener lags',
    });
    onTestFinished(() => {
      proxy.delay('CreateListener', 0);
      proxy.clearFault('lagging listener');
    });
    proxy.resetLog();
    await o.stack.apply(
      ingress('ls', 'ls-stable', '', {
        'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
        'alb.ingress.kubernetes.io/certificate-arn': cert,
      }),
      ns,
    );
    // Promote once the LBC is creating the listener (its rule is built from the action at 20 %).
    await o.until('the LBC creating the HTTPS listener', async () => (proxy.log().some((c) => c.action === 'CreateListener') ? true : undefined), 60_000, () => o.diagnose(ns, 'ls'));
    await o.promote(ns, 'ls');
    await o.until('the HTTPS listener with its rule', async () => (Object.keys(await places()).some((p) => p.startsWith('alb :443')) ? true : undefined), 60_000, () => o.diagnose(ns, 'ls'));
    proxy.delay('CreateListener', 0);
    // The :443 rule is held at 20 % for a while: long enough for Argo to ask again (it re-asks 10 s after a "not
    // yet"), not so long that the verifier's 30-s listener cache expires by itself.
    const lagStart = Date.now();
    await o.until('the :80 rule at 50 % and the :443 rule held at 20 %', async () => {
      const p = await places();
      const at443 = Object.entries(p).find(([k]) => k.startsWith('alb :443'))?.[1];
      const at80 = Object.entries(p).find(([k]) => k.startsWith('alb :80'))?.[1];
      return canaryShare(at80, 'ls-canary') === 50 && canaryShare(at443, 'ls-canary') === 20 ? true : undefined;
    }, 60_000, () => o.diagnose(ns, 'ls'));
    while (Date.now() - lagStart < 22_000 && (await o.rollout(ns, 'ls')).status?.currentStepIndex !== 3) await sleep(500);
    const stepWhileLagging = (await o.rollout(ns, 'ls')).status?.currentStepIndex;
    // Held 3 s more, so that a step taken early is in the timeline's record before the :443 rule catches up.
    await sleep(3000);
    const faulted = proxy.faulted('lagging listener');
    proxy.clearFault('lagging listener');
    console.log(`:443 rule held for ${Date.now() - lagStart} ms (${faulted} ModifyRule calls failed); step while it lagged: ${stepWhileLagging}`);
    expect(faulted, 'the :443 rule was held back').toBeGreaterThan(0);

    // Released: the :443 rule catches up, and only then may the step be verified.
    await o.until('both listeners at 50 %', async () => {
      const p = await places();
      return Object.keys(p).length === 2 && Object.values(p).every((w) => canaryShare(w, 'ls-canary') === 50) ? true : undefined;
    }, 120_000, () => o.diagnose(ns, 'ls'));
    await o.untilPaused(ns, 'ls');
    await o.until('step 3', async () => ((await o.rollout(ns, 'ls')).status?.currentStepIndex === 3 ? true : undefined), 120_000, () => o.diagnose(ns, 'ls'));
    const report = (await o.sidecarApi(ns, 'ls')) as { verified: boolean; ingresses?: Array<{ rules: Array<{ listenerArn?: string | null }> }> };
    const listenersChecked = new Set((report.ingresses ?? []).flatMap((i) => i.rules.map((r) => r.listenerArn)));
    await o.promote(ns, 'ls');
    await o.untilHealthy(ns, 'ls');
    await o.until('both listeners back at canary 0', async () => {
      const p = await places();
      return Object.keys(p).length === 2 && Object.values(p).every((w) => canaryShare(w, 'ls-canary') === 0) ? true : undefined;
    }, 120_000, () => o.diagnose(ns, 'ls'));
    // Every sample on both listeners: no step past setWeight 50 while either rule carried less.
    await timeline.check({ canary: 'ls-canary', seen: [20, 50], minSamples: 30, minMidRollout: 20 });
    // And the sidecar's own report at 50 % judged the rules of both listeners.
    expect(listenersChecked.size, JSON.stringify(report)).toBe(2);
  });
});
