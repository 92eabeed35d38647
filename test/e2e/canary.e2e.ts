// A canary on an Ingress, under the real Argo controller with its default flags, the real LBC and moto.
import { describe, expect, it } from 'vitest';
import { ingress, rollout, services } from './support/app.js';
import { canaryShare, IngressRecorder, PLUGIN_FIELD_MANAGER, poll, Timeline } from './support/observe.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const ACTION = (svc: string) => `alb.ingress.kubernetes.io/actions.${svc}`;
const OURS = 'alb.rollouts.argoproj-labs.io/managed-annotations';
const ARGOS = 'rollouts.argoproj.io/managed-alb-annotations';

function canaryOf(action: string, canary: string): number {
  const tgs = (JSON.parse(action) as { ForwardConfig: { TargetGroups: Array<{ ServiceName: string; Weight: number }> } }).ForwardConfig.TargetGroups;
  return tgs.find((t) => t.ServiceName === canary)?.Weight ?? 0;
}

/** Canary weights of the action annotation, revision by revision (distinct successive values). */
function actionCanaryWeights(rec: IngressRecorder, ing: string, stable: string, canary: string): Array<number | undefined> {
  return rec.values(ing, ACTION(stable)).map((v) => {
    if (v === undefined) return undefined;
    const tgs = (JSON.parse(v) as { ForwardConfig: { TargetGroups: Array<{ ServiceName: string; Weight: number }> } }).ForwardConfig.TargetGroups;
    return tgs.find((t) => t.ServiceName === canary)?.Weight ?? 0;
  });
}

describe.skipIf(e2eSkipped())('Ingress mode, canary with --aws-verify-target-group (deploy/ sets it)', () => {
  const { obs } = useStack();

  it('20 → 50 → promote: no step advances before the LBC\'s rule carries its weight, and the ALB never falls back to stable', async () => {
    const o = obs();
    const ns = await o.namespace('canary');
    await o.stack.apply(
      services(['demo-stable', 'demo-canary'], 'demo') +
        ingress('demo', 'demo-stable') +
        rollout('demo', 'demo', `
canary:
  stableService: demo-stable
  canaryService: demo-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: demo
        servicePort: 80
  steps:
  - setWeight: 20
  - pause: {duration: 5}
  - setWeight: 50
  - pause: {duration: 5}
`),
      ns,
    );
    await o.untilHealthy(ns, 'demo');
    // The LBC builds the ALB from the action the plugin wrote at the first reconcile.
    const initial = await o.until('the ALB rule forwarding to demo-stable', () => o.albWeights(ns, 'demo', 'demo-stable'), 120_000, () => o.diagnose(ns, 'demo'));
    expect(canaryShare(initial, 'demo-canary')).toBe(0);

    const rec = new IngressRecorder(o.stack, ns);
    await rec.start();
    const timeline = new Timeline(o, ns, 'demo', 'demo', 'demo-stable');
    timeline.start();
    await o.setImage(ns, 'demo', 'registry.example.com/demo:2.0.0');
    await o.until('the new revision to start', async () => ((await o.rollout(ns, 'demo')).status?.currentPodHash !== undefined ? true : undefined));
    const promoted = await o.untilHealthy(ns, 'demo');
    // Let the final switch to the new stable reach the ALB before the last samples.
    await o.until('the ALB back at canary 0', async () => (canaryShare(await o.albWeights(ns, 'demo', 'demo-stable'), 'demo-canary') === 0 ? true : undefined));
    rec.stop();
    // The shared rules: no read error, enough samples, every step's weight seen on every action rule of the ALB, no
    // step past a setWeight before the ALB (read after the status) carries it, no revert mid-rollout.
    const samples = await timeline.check({ canary: 'demo-canary', seen: [20, 50], minSamples: 20, minMidRollout: 10 });
    expect(canaryShare(samples.at(-1)!.alb, 'demo-canary')).toBe(0);

    // The Ingress: written by the plugin only, one revision per step, no fight with Argo's Ingress controller.
    // Revision by revision (not merged): each change of the action is its own revision, in step order.
    expect(actionCanaryWeights(rec, 'demo', 'demo-stable', 'demo-canary')).toEqual([0, 20, 50, 100, 0]);
    const changes = rec.changes('demo', ACTION('demo-stable'));
    expect(changes.map((r) => canaryOf(r.annotations[ACTION('demo-stable')]!, 'demo-canary')), JSON.stringify(changes)).toEqual([20, 50, 100, 0]);
    // ... each written by the plugin's field manager alone, which owns the annotation ...
    expect(rec.ownershipViolations('demo', [ACTION('demo-stable'), OURS])).toEqual([]);
    // ... and the plugin wrote no other revision (a rewrite of the same weights would be one more).
    const ours = rec.writtenBy('demo', PLUGIN_FIELD_MANAGER);
    expect(ours.map((r) => r.resourceVersion), JSON.stringify(rec.revisions.get('demo'))).toEqual(changes.map((r) => r.resourceVersion));
    const last = (await o.ingress(ns, 'demo')).metadata!.annotations!;
    expect(JSON.parse(last[OURS]!)).toEqual({ demo: [ACTION('demo-stable')] });
    expect(last[ARGOS]).toBeUndefined();

    // Targets: the new stable's pods are registered and healthy in the target group the ALB forwards to.
    const stableRS = promoted.status!.stableRS!;
    const ips = await o.podIPs(ns, `rollouts-pod-template-hash=${stableRS}`);
    expect(ips).toHaveLength(2);
    await o.until('the stable target group to hold the new pods', async () => {
      const t = await o.targets(ns, 'demo-stable');
      const healthy = t.filter((x) => x.state === 'healthy').map((x) => x.ip).sort();
      return JSON.stringify(healthy) === JSON.stringify(ips) ? true : undefined;
    });

    // What a user sees: the plugin's own Events, the API verdict and the metrics.
    const reasons = (await o.events(ns, 'demo')).map((e) => e.reason);
    expect(reasons).toContain('ALBPluginIngressPatched');
    expect(reasons).toContain('ALBPluginWeightVerified');
    // The API an AnalysisTemplate polls.
    const answers = await o.untilApiVerified(ns, 'demo');
    if (answers.length > 1) console.log(`sidecar API answers until verified: ${JSON.stringify(answers)}`);
    expect(await o.metrics()).toMatch(/alb_plugin_rpc_calls_total\{[^}]*method="Plugin.SetWeight"[^}]*\} [1-9]/);
    expect(o.stack.logs('controller', 200_000)).toContain("Reconciling TrafficRouting with type 'ALBPlugin'");
  });

  it('abort mid-canary: the ALB is back on stable before the canary ReplicaSet scales down', async () => {
    const o = obs();
    const ns = await o.namespace('abort');
    await o.stack.apply(
      services(['shop-stable', 'shop-canary'], 'shop') +
        ingress('shop', 'shop-stable') +
        rollout('shop', 'shop', `
canary:
  stableService: shop-stable
  canaryService: shop-canary
  abortScaleDownDelaySeconds: 5
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: shop
        servicePort: 80
  steps:
  - setWeight: 30
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'shop');
    await o.setImage(ns, 'shop', 'registry.example.com/shop:2.0.0');
    await o.until('the ALB at canary 30', async () => (canaryShare(await o.albWeights(ns, 'shop', 'shop-stable'), 'shop-canary') === 30 ? true : undefined), 180_000, () => o.diagnose(ns, 'shop'));
    const canaryHash = (await o.rollout(ns, 'shop')).status!.currentPodHash!;
    await o.abort(ns, 'shop');
    // Sample the ALB and then the canary pods, in that order, until the canary ReplicaSet has scaled down: a sample
    // whose pods (read after) are fewer must have had the ALB on stable already when it was read before them.
    const seen = await poll(
      'the canary pods gone',
      async () => {
        const share = canaryShare(await o.albWeights(ns, 'shop', 'shop-stable'), 'shop-canary');
        const pods = (await o.podIPs(ns, `rollouts-pod-template-hash=${canaryHash}`)).length;
        return { share, pods };
      },
      (s) => s.pods === 0,
      { minSamples: 5, onTimeout: () => o.diagnose(ns, 'shop') },
    );
    const maxPods = Math.max(...seen.map((s) => s.pods));
    expect(maxPods, JSON.stringify(seen)).toBeGreaterThan(0);
    // The canary pods were sampled while still there (abortScaleDownDelaySeconds), so the order was observed.
    expect(seen.filter((s) => s.pods === maxPods).length, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    for (const s of seen) if (s.pods < maxPods) expect(s.share, JSON.stringify(seen)).toBe(0);
    expect((await o.rollout(ns, 'shop')).status?.phase).toBe('Degraded');
  });

  it('a setHeaderRoute step: the LBC creates the header rule to the canary, and deletes it at removal', async () => {
    const o = obs();
    const ns = await o.namespace('header');
    await o.stack.apply(
      services(['web-stable', 'web-canary'], 'web') +
        ingress('web', 'web-stable') +
        rollout('web', 'web', `
canary:
  stableService: web-stable
  canaryService: web-canary
  trafficRouting:
    managedRoutes:
    - name: beta-users
    plugins:
      ${PLUGIN}:
        ingress: web
        servicePort: 80
  steps:
  - setWeight: 10
  - setHeaderRoute:
      name: beta-users
      match:
      - headerName: X-Beta
        headerValue: {exact: "yes"}
  - pause: {}
  - setHeaderRoute: {name: beta-users}
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'web');
    await o.setImage(ns, 'web', 'registry.example.com/web:2.0.0');
    const headerRule = async () =>
      (await o.albRules(ns, 'web')).find((r) => (r.conditions ?? []).some((c) => c.Field === 'http-header'));
    const rule = await o.until('the header rule on the ALB', headerRule, 180_000, () => o.diagnose(ns, 'web'));
    expect(rule.services).toEqual({ 'web-canary': 100 });
    const header = rule.conditions!.find((c) => c.Field === 'http-header')!;
    expect(header.HttpHeaderConfig).toEqual({ HttpHeaderName: 'X-Beta', Values: ['yes'] });
    // The header rule wins over the catch-all: a lower priority number.
    const main = (await o.albRules(ns, 'web')).find((r) => 'web-stable' in r.services)!;
    expect(Number(rule.priority)).toBeLessThan(Number(main.priority));

    // Promote past the pause (what `kubectl argo rollouts promote` does): the removal step runs.
    await o.promote(ns, 'web');
    await o.until('the header rule gone', async () => ((await headerRule()) === undefined ? true : undefined), 180_000, () => o.diagnose(ns, 'web'));
    const ing = await o.ingress(ns, 'web');
    expect(ing.metadata!.annotations![ACTION('beta-users')]).toBeUndefined();
    expect(ing.spec!.rules![0]!.http!.paths.map((p) => p.backend.service!.name)).toEqual(['web-stable']);
  });

  it('Rollout deleted: the Ingress is released to 100 % stable and our bookkeeping goes', async () => {
    const o = obs();
    const ns = await o.namespace('delete');
    await o.stack.apply(
      services(['api-stable', 'api-canary'], 'api') +
        ingress('api', 'api-stable') +
        rollout('api', 'api', `
canary:
  stableService: api-stable
  canaryService: api-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: api
        servicePort: 80
  steps:
  - setWeight: 40
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'api');
    await o.setImage(ns, 'api', 'registry.example.com/api:2.0.0');
    await o.until('the ALB at canary 40', async () => (canaryShare(await o.albWeights(ns, 'api', 'api-stable'), 'api-canary') === 40 ? true : undefined), 180_000, () => o.diagnose(ns, 'api'));
    await o.deleteRollout(ns, 'api');
    const released = await o.until('the Ingress released', async () => {
      const a = (await o.ingress(ns, 'api')).metadata!.annotations!;
      return a[OURS] === undefined ? a : undefined;
    }, 60_000);
    expect(JSON.parse(released[ACTION('api-stable')]!)).toEqual({
      Type: 'forward',
      ForwardConfig: { TargetGroups: [{ ServiceName: 'api-stable', ServicePort: '80', Weight: 100 }] },
    });
    await o.until('the ALB at 100 % stable', async () => (canaryShare(await o.albWeights(ns, 'api', 'api-stable'), 'api-canary') === 0 ? true : undefined));
  });
});
