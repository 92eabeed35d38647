// Gateway mode end to end: a Rollout whose plugin block names an HTTPRoute, under the real Argo controller, the
// real LBC with its ALBGatewayAPI feature (startStack({gatewayApi: true})) and moto. The plugin writes only the
// weights of the route's backendRefs; the LBC turns them into the forward of the Gateway's ALB rule, which the test
// reads back from moto at every step.
import { describe, expect, it } from 'vitest';
import { rollout, services } from './support/app.js';
import { catchAllRule, diagnoseGateway, gateway, gatewayClass, gatewayPlaces, gatewayRules, headerCondition, httpRoute, readHTTPRoute, yamlDocs } from './support/gateway.js';
import { HTTPRouteRecorder, PLUGIN_FIELD_MANAGER, poll, Timeline, type Observer } from './support/observe.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';

const OWNED = 'alb.rollouts.argoproj-labs.io/gateway-owned';

describe.skipIf(e2eSkipped())('Gateway mode: a Rollout driving an HTTPRoute the LBC builds into an ALB', () => {
  const { obs } = useStack({ gatewayApi: true });

  it('canary 20 → 50 → promote: each step\'s weights are in the HTTPRoute and on the ALB rule (same rule ARN), back to stable at the end', async () => {
    const o = obs();
    const ns = await o.namespace('gw-canary');
    const diag = async () => `${await diagnoseGateway(o, ns, 'shop')}\n${await o.diagnose(ns, 'shop')}`;
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['shop-stable', 'shop-canary'], 'shop'),
        gateway('shop', { className: 'alb-plugin' }),
        httpRoute('shop', { gateway: 'shop', sectionName: 'http' }, [
          { name: 'main', backends: [{ service: 'shop-stable', weight: 100 }, { service: 'shop-canary', weight: 0 }] },
        ]),
        rollout('shop', 'shop', `
canary:
  stableService: shop-stable
  canaryService: shop-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        httpRoute: shop
  steps:
  - setWeight: 20
  - pause: {}
  - setWeight: 50
  - pause: {}
`),
      ),
      ns,
    );
    await o.untilHealthy(ns, 'shop');
    const weightsOnAlb = async (canary: number) =>
      o.until(`the Gateway's ALB rule at canary ${canary}`, async () => {
        const r = await catchAllRule(o, ns, 'shop', 'shop-stable');
        return r && r.services['shop-canary'] === canary ? r : undefined;
      }, 120_000, diag);
    const routeWeights = async () => (await readHTTPRoute(o, ns, 'shop')).spec.rules[0]!.backendRefs!.map((b) => [b.name, b.weight]);

    const initial = await weightsOnAlb(0);
    expect(initial.services).toEqual({ 'shop-stable': 100, 'shop-canary': 0 });

    // Between the checks below, the route's weights and the ALB's are sampled after the status throughout, and every
    // revision of the route is recorded with its writer.
    const rec = new HTTPRouteRecorder(o.stack, ns);
    await rec.start();
    const timeline = new Timeline(o, ns, 'shop', () => gatewayPlaces(o, ns, 'shop', ['shop'], 'shop-stable'), undefined, { intervalMs: 50 });
    timeline.start();
    await o.setImage(ns, 'shop', 'registry.example.com/demo:2.0.0');
    await o.untilPaused(ns, 'shop');
    expect(await routeWeights()).toEqual([['shop-stable', 80], ['shop-canary', 20]]);
    const at20 = await weightsOnAlb(20);
    expect(at20.services).toEqual({ 'shop-stable': 80, 'shop-canary': 20 });
    expect(at20.ruleArn).toBe(initial.ruleArn);

    await o.promote(ns, 'shop');
    await o.until('step 3 (the second pause)', async () => ((await o.rollout(ns, 'shop')).status?.currentStepIndex === 3 ? true : undefined), 120_000, diag);
    await o.untilPaused(ns, 'shop');
    expect(await routeWeights()).toEqual([['shop-stable', 50], ['shop-canary', 50]]);
    const at50 = await weightsOnAlb(50);
    expect(at50.services).toEqual({ 'shop-stable': 50, 'shop-canary': 50 });
    expect(at50.ruleArn).toBe(initial.ruleArn);

    await o.promote(ns, 'shop');
    await o.untilHealthy(ns, 'shop');
    const done = await weightsOnAlb(0);
    expect(done.services).toEqual({ 'shop-stable': 100, 'shop-canary': 0 });
    expect(done.ruleArn).toBe(initial.ruleArn);
    expect(await routeWeights()).toEqual([['shop-stable', 100], ['shop-canary', 0]]);
    rec.stop();
    // Every revision that changed the route's weights was written by the plugin's field manager alone, which owns
    // spec.rules (an atomic list) in it; 20, 50 and the way back are such revisions, so the rule judged something.
    expect(rec.weightViolations('shop'), JSON.stringify(rec.revisions.get('shop'))).toEqual([]);
    const canaryWeights = rec.weights('shop').map((w) => (JSON.parse(w) as Array<[string, Array<[string, number]>]>)[0]![1].find(([svc]) => svc === 'shop-canary')![1]);
    expect(canaryWeights, JSON.stringify(rec.revisions.get('shop'))).toEqual(expect.arrayContaining([20, 50]));
    expect(canaryWeights.at(-1)).toBe(0);
    // The shared rules over the samples, on the route and on the ALB rule: each step's weight seen, no step past a
    // setWeight before the ALB carries it, never back down mid-rollout.
    await timeline.check({
      canary: 'shop-canary',
      seen: [20, 50],
      places: ['route shop main', 'alb :80 path=/*'],
      // The whole canary takes about 4 s here: a sample every ~300 ms.
      minSamples: 10,
      minMidRollout: 6,
    });
    // The route's other settings are the user's: one rule, no bookkeeping (no header rules, no experiments).
    const route = await readHTTPRoute(o, ns, 'shop');
    expect(route.spec.rules.map((r) => r.name)).toEqual(['main']);
    expect((route.metadata as { annotations?: Record<string, string> }).annotations?.[OWNED]).toBeUndefined();
    expect(await o.metrics()).toMatch(/alb_plugin_rpc_calls_total\{[^}]*method="Plugin.SetWeight"[^}]*\} [1-9]/);
    // VerifyWeight (deploy/ turns verification on) read the Gateway's ALB through the LBC's TargetGroupBindings.
    const events = await o.events(ns, 'shop');
    const verified = events.filter((e) => e.reason === 'ALBPluginWeightVerified').map((e) => e.message);
    expect(verified, JSON.stringify(events)).toEqual(
      expect.arrayContaining(["Weights verified on the Gateway's load balancer: canary 20, stable 80", "Weights verified on the Gateway's load balancer: canary 50, stable 50"]),
    );
    // Argo completed each setWeight step only after the plugin verified it on the ALB (Events in order).
    const at = (pred: (e: (typeof events)[number]) => boolean) => events.findIndex(pred);
    for (const [w, step] of [[20, '1/4'], [50, '3/4']] as const) {
      const v = at((e) => e.reason === 'ALBPluginWeightVerified' && e.message.includes(`canary ${w},`));
      const done = at((e) => e.reason === 'RolloutStepCompleted' && e.message.startsWith(`Rollout step ${step} completed (setWeight: ${w})`));
      expect(v, JSON.stringify(events)).toBeGreaterThanOrEqual(0);
      expect(v, JSON.stringify(events)).toBeLessThan(done);
    }
    // The plugin's only warnings are "not yet" answers before the LBC caught up.
    const ours = events.filter((e) => e.source === 'rollouts-plugin-trafficrouter-alb' && e.type === 'Warning');
    expect(ours.map((e) => e.reason).filter((r) => r !== 'ALBPluginWeightUnverified'), JSON.stringify(events)).toEqual([]);
  });

  it('a setHeaderRoute step adds the header rule ahead of the catch-all on the ALB; abort removes it and puts the weights back on stable', async () => {
    const o = obs();
    const ns = await o.namespace('gw-header');
    const diag = async () => `${await diagnoseGateway(o, ns, 'shop')}\n${await o.diagnose(ns, 'shop')}`;
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['shop-stable', 'shop-canary'], 'shop'),
        gateway('shop', { className: 'alb-plugin' }),
        httpRoute('shop', { gateway: 'shop', sectionName: 'http' }, [
          { name: 'main', backends: [{ service: 'shop-stable', weight: 100 }, { service: 'shop-canary', weight: 0 }] },
        ]),
        rollout('shop', 'shop', `
canary:
  stableService: shop-stable
  canaryService: shop-canary
  trafficRouting:
    managedRoutes: [{name: beta}]
    plugins:
      ${PLUGIN}:
        httpRoute: shop
  steps:
  - setWeight: 10
  - pause: {}
  - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "yes"}}]}
  - pause: {}
`),
      ),
      ns,
    );
    await o.untilHealthy(ns, 'shop');
    await o.setImage(ns, 'shop', 'registry.example.com/demo:2.0.0');
    await o.untilPaused(ns, 'shop');
    const main10 = await o.until('the catch-all at canary 10', async () => {
      const r = await catchAllRule(o, ns, 'shop', 'shop-stable');
      return r?.services['shop-canary'] === 10 ? r : undefined;
    }, 120_000, diag);
    await o.promote(ns, 'shop');
    const withHeader = await o.until('the header rule on the ALB', async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      return rules.length === 2 && rules.some((r) => headerCondition(r, 'X-Beta')) ? rules : undefined;
    }, 120_000, diag);
    const hdr = withHeader.find((r) => headerCondition(r, 'X-Beta'))!;
    expect(headerCondition(hdr, 'X-Beta')).toEqual({ values: ['yes'] });
    expect(hdr.services).toEqual({ 'shop-canary': 100 });
    // The header rule wins: it comes first; the catch-all keeps its ARN and its weights.
    expect(withHeader[0]!.ruleArn).toBe(hdr.ruleArn);
    expect(withHeader[1]!.ruleArn).toBe(main10.ruleArn);
    expect(withHeader[1]!.services).toEqual({ 'shop-stable': 90, 'shop-canary': 10 });
    const route = await readHTTPRoute(o, ns, 'shop');
    expect(route.spec.rules.map((r) => r.name)).toEqual(['main', 'argo-shop-beta']);

    await o.untilPaused(ns, 'shop');
    await o.abort(ns, 'shop');
    const after = await o.until('the ALB back on stable without the header rule', async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      return rules.length === 1 && rules[0]!.services['shop-canary'] === 0 ? rules : undefined;
    }, 120_000, diag);
    expect(after[0]!.services).toEqual({ 'shop-stable': 100, 'shop-canary': 0 });
    const cleaned = await readHTTPRoute(o, ns, 'shop');
    expect(cleaned.spec.rules.map((r) => r.name)).toEqual(['main']);
    expect((cleaned.metadata as { annotations?: Record<string, string> }).annotations?.[OWNED]).toBeUndefined();
  });

  it('Rollout deleted mid-canary: its header rule leaves the HTTPRoute and the ALB goes back to 100 % stable', async () => {
    const o = obs();
    const ns = await o.namespace('gw-delete');
    const diag = async () => `${await diagnoseGateway(o, ns, 'shop')}\n${await o.diagnose(ns, 'shop')}`;
    await midCanaryWithHeaderRoute(o, ns, diag);

    await o.deleteRollout(ns, 'shop');
    const after = await o.until('the ALB back on stable without the header rule', async () => {
      const rules = await gatewayRules(o, ns, 'shop');
      return rules.length === 1 && rules[0]!.services['shop-canary'] === 0 ? rules : undefined;
    }, 120_000, diag);
    expect(after[0]!.services).toEqual({ 'shop-stable': 100, 'shop-canary': 0 });
    const route = await readHTTPRoute(o, ns, 'shop');
    expect(route.spec.rules.map((r) => r.name)).toEqual(['main']);
    expect((route.metadata as { annotations?: Record<string, string> }).annotations?.[OWNED]).toBeUndefined();
  });

  it('Rollout deleted while the sidecar is down, mid-canary with a header route (issue #21): the restarted sidecar\'s sweep puts the route and the ALB back on stable', async () => {
    const o = obs();
    const ns = await o.namespace('gw-swept');
    const diag = async () => `${await diagnoseGateway(o, ns, 'shop')}\n${await o.diagnose(ns)}`;
    const rec = new HTTPRouteRecorder(o.stack, ns);
    const mid = await midCanaryWithHeaderRoute(o, ns, diag, () => rec.start());
    // The entry records what a release needs once the Rollout is gone.
    const owned = ((await readHTTPRoute(o, ns, 'shop')).metadata as { annotations?: Record<string, string> }).annotations?.[OWNED];
    const entry = JSON.parse(owned ?? 'null') as unknown;
    expect(entry).toEqual({ [`${ns}/shop`]: { rules: { 'argo-shop-beta': 'beta' }, backends: [], shifted: true, release: { stable: 'shop-stable', canary: 'shop-canary' } } });

    const state = async () => {
      const route = await readHTTPRoute(o, ns, 'shop');
      const rules = await gatewayRules(o, ns, 'shop');
      return {
        route: route.spec.rules.map((r) => [r.name, (r.backendRefs ?? []).map((b) => [b.name, b.weight])]),
        owned: (route.metadata as { annotations?: Record<string, string> }).annotations?.[OWNED] ?? null,
        alb: rules.map((r) => ({ header: headerCondition(r, 'X-Beta') !== undefined, services: r.services })),
      };
    };
    await o.stack.restartSidecar('SIGKILL', async () => {
      await o.deleteRollout(ns, 'shop');
      await o.until('the Rollout gone', async () => ((await o.rollout(ns, 'shop').then(() => false, () => true)) ? true : undefined));
      // Nobody releases while no sidecar runs: a few seconds later the route and the ALB still carry the canary.
      await new Promise((r) => setTimeout(r, 3000));
      const down = await state();
      expect(down.route).toEqual([['main', [['shop-stable', 70], ['shop-canary', 30]]], ['argo-shop-beta', [['shop-canary', 100]]]]);
      expect(down.alb).toHaveLength(2);
    });
    // The restarted sidecar never saw the Rollout: its first sweep finds the entry on the route. Every read is kept
    // and must succeed (a read error fails the poll), and the end state needs one rule on the route and one on the
    // ALB, so empty reads never pass; the state before it was read above, with the sidecar down.
    const seen = await poll(
      'the route and the ALB back on stable without the header rule or our entry',
      state,
      (s) =>
        s.owned === null &&
        s.route.length === 1 &&
        s.alb.length === 1 &&
        !s.alb[0]!.header &&
        s.alb[0]!.services['shop-stable'] === 100 &&
        s.alb[0]!.services['shop-canary'] === 0,
      { timeoutMs: 120_000, minSamples: 1, intervalMs: 250, onTimeout: diag },
    );
    const last = seen.at(-1)!;
    expect(last.route).toEqual([['main', [['shop-stable', 100], ['shop-canary', 0]]]]);
    expect(last.alb).toEqual([{ header: false, services: { 'shop-stable': 100, 'shop-canary': 0 } }]);
    // The route rule's ALB rule, read from ELBv2, forwards everything to the stable Service (the LBC may make it anew
    // when the header rule ahead of it goes, so it is found by its conditions, not by the ARN it had at 30 %).
    const after = await catchAllRule(o, ns, 'shop', 'shop-stable');
    expect(after?.conditions).toEqual(mid.conditions);
    expect(after?.services).toEqual({ 'shop-stable': 100, 'shop-canary': 0 });
    // It was the sweep (the restarted sidecar's log says so), and the plugin's field manager wrote every weight change.
    expect(o.stack.logs('sidecar', 20_000)).toContain('released the HTTPRoute entry of a Rollout that no longer drives it (found by the sweep)');
    rec.stop();
    expect(rec.weightViolations('shop'), JSON.stringify(rec.revisions.get('shop'))).toEqual([]);
    // Judged: at least the 30 % write and the release changed the weights.
    const changes = rec.revisions.get('shop')!.filter((r, i, all) => i > 0 && r.weights !== all[i - 1]!.weights);
    expect(changes.length, JSON.stringify(rec.revisions.get('shop'))).toBeGreaterThanOrEqual(2);
    expect(changes.every((r) => r.writers.join() === PLUGIN_FIELD_MANAGER)).toBe(true);
  });

  it('ping-pong: the weights follow the roles from the status through two promotions, on the route and on the ALB', async () => {
    const o = obs();
    const ns = await o.namespace('gw-pingpong');
    const diag = async () => `${await diagnoseGateway(o, ns, 'pp')}\n${await o.diagnose(ns, 'pp')}`;
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['pp-ping', 'pp-pong'], 'pp'),
        gateway('pp', { className: 'alb-plugin' }),
        httpRoute('pp', { gateway: 'pp', sectionName: 'http' }, [
          { name: 'main', backends: [{ service: 'pp-ping', weight: 100 }, { service: 'pp-pong', weight: 0 }] },
        ]),
        rollout('pp', 'pp', `
canary:
  pingPong: {pingService: pp-ping, pongService: pp-pong}
  trafficRouting:
    plugins:
      ${PLUGIN}:
        httpRoute: pp
  steps:
  - setWeight: 25
  - pause: {duration: 3}
`),
      ),
      ns,
    );
    const first = await o.untilHealthy(ns, 'pp');
    const stableRole = (r: typeof first) => `pp-${r.status?.canary?.stablePingPong || 'pong'}`;
    const onAlb = (svc: string, weight: number) =>
      o.until(`${weight} % on ${svc} on the ALB`, async () => {
        const r = await catchAllRule(o, ns, 'pp', 'pp-ping');
        return r?.services[svc] === weight ? r : undefined;
      }, 180_000, diag);
    const start = await onAlb(stableRole(first), 100);
    for (const image of ['registry.example.com/pp:2', 'registry.example.com/pp:3']) {
      const before = stableRole(await o.rollout(ns, 'pp'));
      const other = before === 'pp-ping' ? 'pp-pong' : 'pp-ping';
      await o.setImage(ns, 'pp', image);
      const mid = await onAlb(other, 25);
      expect(mid.services).toEqual({ [before]: 75, [other]: 25 });
      const done = await o.untilHealthy(ns, 'pp');
      expect(stableRole(done)).toBe(other);
      const end = await onAlb(other, 100);
      expect(end.services).toEqual({ [other]: 100, [before]: 0 });
      expect(end.ruleArn).toBe(start.ruleArn);
    }
  });

  it("an experiment step: the experiment Service's backendRef is added on its own port, weighted on the ALB, and removed after", async () => {
    const o = obs();
    const ns = await o.namespace('gw-experiment');
    const diag = async () => `${await diagnoseGateway(o, ns, 'ex')}\n${await o.diagnose(ns, 'ex')}`;
    await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
    await o.stack.apply(
      yamlDocs(
        services(['ex-stable', 'ex-canary'], 'ex'),
        gateway('ex', { className: 'alb-plugin' }),
        httpRoute('ex', { gateway: 'ex', sectionName: 'http' }, [
          { name: 'main', backends: [{ service: 'ex-stable', weight: 100 }, { service: 'ex-canary', weight: 0 }] },
        ]),
        rollout('ex', 'ex', `
canary:
  stableService: ex-stable
  canaryService: ex-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        httpRoute: ex
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
      ),
      ns,
    );
    await o.untilHealthy(ns, 'ex');
    await o.setImage(ns, 'ex', 'registry.example.com/ex:2');
    const withExperiment = await o.until('the experiment Service weighted on the ALB', async () => {
      const r = await catchAllRule(o, ns, 'ex', 'ex-stable');
      return r && r.services['ex-baseline'] === 5 ? r : undefined;
    }, 180_000, diag);
    expect(withExperiment.services).toEqual({ 'ex-canary': 10, 'ex-baseline': 5, 'ex-stable': 85 });
    const during = await readHTTPRoute(o, ns, 'ex');
    // Argo creates the experiment Service with the container port (8080); the route's Services use 80.
    expect(during.spec.rules[0]!.backendRefs!.find((b) => b.name === 'ex-baseline')).toMatchObject({ port: 8080, weight: 5 });
    await o.untilHealthy(ns, 'ex');
    const after = await o.until('the ALB back on stable only', async () => {
      const r = await catchAllRule(o, ns, 'ex', 'ex-stable');
      return r && !('ex-baseline' in r.services) && r.services['ex-canary'] === 0 ? r : undefined;
    }, 180_000, diag);
    expect(after.services).toEqual({ 'ex-stable': 100, 'ex-canary': 0 });
    const route = await readHTTPRoute(o, ns, 'ex');
    expect(route.spec.rules[0]!.backendRefs!.map((b) => b.name)).toEqual(['ex-stable', 'ex-canary']);
    expect((route.metadata as { annotations?: Record<string, string> }).annotations?.[OWNED]).toBeUndefined();
  });
});

/**
 * A Gateway-mode Rollout `shop` on HTTPRoute `shop` taken to its pause after `setWeight: 30` and a header route
 * `beta`: both are on the ALB when this returns (the catch-all rule at 30 % canary, returned). `beforeCanary` runs
 * once the first revision is healthy.
 */
async function midCanaryWithHeaderRoute(o: Observer, ns: string, diag: () => Promise<string>, beforeCanary?: () => Promise<void>) {
  await o.stack.apply(yamlDocs(gatewayClass('alb-plugin')));
  await o.stack.apply(
    yamlDocs(
      services(['shop-stable', 'shop-canary'], 'shop'),
      gateway('shop', { className: 'alb-plugin' }),
      httpRoute('shop', { gateway: 'shop', sectionName: 'http' }, [
        { name: 'main', backends: [{ service: 'shop-stable', weight: 100 }, { service: 'shop-canary', weight: 0 }] },
      ]),
      rollout('shop', 'shop', `
canary:
  stableService: shop-stable
  canaryService: shop-canary
  trafficRouting:
    managedRoutes: [{name: beta}]
    plugins:
      ${PLUGIN}:
        httpRoute: shop
  steps:
  - setWeight: 30
  - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "yes"}}]}
  - pause: {}
`),
    ),
    ns,
  );
  await o.untilHealthy(ns, 'shop');
  await beforeCanary?.();
  await o.setImage(ns, 'shop', 'registry.example.com/demo:2.0.0');
  await o.untilPaused(ns, 'shop');
  return o.until('30 % and the header rule on the ALB', async () => {
    const rules = await gatewayRules(o, ns, 'shop');
    const main = rules.find((r) => !headerCondition(r, 'X-Beta'));
    return rules.length === 2 && main?.services['shop-canary'] === 30 ? main : undefined;
  }, 120_000, diag);
}
