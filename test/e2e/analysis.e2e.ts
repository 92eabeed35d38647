// Canary analysis on the ALB (issue #19) under the real Argo controller, the real LBC and moto (ELBv2, EC2 and
// CloudWatch on one port): status.alb / status.albs filled by the plugin exactly as Argo's built-in router fills
// them (compared with ELBv2 read directly), kept through the controller's reconciles, a promotion and an abort,
// following ping-pong's roles; and Argo's OWN CloudWatch provider taking its dimensions from those fields
// (valueFrom.fieldRef), passing on good and failing on bad ALB metrics published into moto as AWS publishes them.
import { isDeepStrictEqual } from 'node:util';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ingress, rollout, services } from './support/app.js';
import { albResources, cloudwatchClient, expectedAlbStatus, pastMinutes, publishAlbTraffic, type AlbResources, type AlbStatus } from './support/cloudwatch.js';
import { canaryShare, type Observer, type RolloutObject } from './support/observe.js';
import { e2eSkipped, PLUGIN, useStack } from './support/suite.js';
import { sleep } from '../support/processes.js';

interface AlbFields {
  alb?: AlbStatus;
  albs?: AlbStatus[];
}

const albFields = (ro: RolloutObject): AlbFields => {
  const s = (ro.status ?? {}) as AlbFields;
  return { ...(s.alb ? { alb: s.alb } : {}), ...(s.albs ? { albs: s.albs } : {}) };
};

interface AnalysisRun {
  metadata: { name: string; labels?: Record<string, string>; creationTimestamp?: string };
  spec: { args?: Array<{ name: string; value?: string }>; metrics: Array<{ name: string }> };
  status?: {
    phase?: string;
    message?: string;
    metricResults?: Array<{ name: string; phase: string; message?: string; measurements?: Array<{ phase: string; value?: string; message?: string; metadata?: Record<string, string> }> }>;
  };
}

async function analysisRuns(o: Observer, ns: string): Promise<AnalysisRun[]> {
  const list = (await o.custom.listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: ns, plural: 'analysisruns' })) as { items: AnalysisRun[] };
  return list.items;
}

/** The load balancer and its target groups for Services `services`, once the LBC has built them all. */
async function resources(o: Observer, ns: string, ing: string, services: string[]): Promise<AlbResources> {
  const host = await o.hostname(ns, ing);
  return o.until(
    `the load balancer of Ingress ${ns}/${ing} with target groups for ${services.join(', ')}`,
    async () => {
      const res = await albResources(o.stack.elbv2, host, ns, ing, 80);
      return res && services.every((s) => res.targetGroups.has(s)) ? res : undefined;
    },
    120_000,
    () => o.diagnose(ns),
  );
}

/** Reads the Rollout every 250 ms until stopped; a read error fails the scenario (nothing restarts here). */
class StatusSampler {
  readonly samples: Array<{ at: number; resourceVersion: string; step?: number; phase?: string; fields: AlbFields }> = [];
  private running = true;
  private loop: Promise<void> | undefined;
  private error: unknown;

  constructor(private readonly o: Observer, private readonly ns: string, private readonly name: string) {}

  start(): this {
    this.loop = (async () => {
      while (this.running) {
        try {
          const ro = await this.o.rollout(this.ns, this.name);
          this.samples.push({
            at: Date.now(),
            resourceVersion: (ro.metadata as { resourceVersion?: string }).resourceVersion ?? '',
            ...(ro.status?.currentStepIndex !== undefined ? { step: ro.status.currentStepIndex } : {}),
            ...(ro.status?.phase ? { phase: ro.status.phase } : {}),
            fields: albFields(ro),
          });
        } catch (err) {
          this.error ??= err;
        }
        await sleep(250);
      }
    })();
    return this;
  }

  async stop(): Promise<this> {
    this.running = false;
    await this.loop;
    if (this.error) throw new Error(`a Rollout read failed while sampling: ${String(this.error)}`);
    return this;
  }
}

describe.skipIf(e2eSkipped())('ALB analysis: status.alb under the plugin, Argo\'s CloudWatch provider on it', () => {
  const { obs } = useStack({ controllerAws: true });

  it('A0. status.alb is there at the first verified setWeight when the ALB came up shortly before it', async () => {
    // On AWS an ALB takes minutes to provision and Argo verifies the weights at once, so the first verifications
    // find no load balancer. Here the LBC is held back by a subnet that does not exist, until the test removes it.
    const o = obs();
    const ns = await o.namespace('albfirst');
    await o.stack.apply(
      services(['first-stable', 'first-canary'], 'first') +
        `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: first
  annotations:
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/target-type: ip
    alb.ingress.kubernetes.io/subnets: subnet-0000000000000000a
spec:
  ingressClassName: alb
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: first-stable, port: {name: use-annotation}}}
---` +
        rollout('first', 'first', `
canary:
  stableService: first-stable
  canaryService: first-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: first
        servicePort: 80
  steps:
  - setWeight: 20
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'first');
    // The sidecar told Argo (and the user) that there is no load balancer yet.
    await o.until('a verification that found no load balancer', async () =>
      (await o.events(ns, 'first')).some((e) => e.reason === 'ALBPluginWeightUnverified' && /no load-balancer hostname/.test(e.message)) ? true : undefined,
    60_000, () => o.diagnose(ns, 'first'));
    // `kubectl annotate ingress first alb.ingress.kubernetes.io/subnets-`
    await o.net.patchNamespacedIngress(
      { namespace: ns, name: 'first', body: { metadata: { annotations: { 'alb.ingress.kubernetes.io/subnets': null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const res = await resources(o, ns, 'first', ['first-stable', 'first-canary']);
    const want = expectedAlbStatus(res, 'first', 'first-stable', 'first-canary');
    await o.setImage(ns, 'first', 'registry.example.com/first:2');
    const paused = await o.untilPaused(ns, 'first');
    expect(paused.status?.currentStepIndex).toBe(1);
    expect(canaryShare(await o.albWeights(ns, 'first', 'first-stable'), 'first-canary')).toBe(20);
    // Argo's router writes the fields in the reconcile that verified 20 %; the plugin's write follows its answer.
    const at = Date.now();
    const f = await o.until('status.alb on the Rollout', async () => {
      const x = albFields(await o.rollout(ns, 'first'));
      return x.alb ? x : undefined;
    }, 60_000, async () => `${JSON.stringify(albFields(await o.rollout(ns, 'first')))}\n${await o.diagnose(ns, 'first')}`);
    console.log(`A0: status.alb ${Date.now() - at} ms after the Rollout paused at the verified 20 %`);
    expect(Date.now() - at, 'ms from the pause after the verified 20 % to status.alb').toBeLessThanOrEqual(5000);
    expect(f.alb).toEqual(want);
    expect(f.albs).toEqual([want]);
  });

  it('A. status.alb / status.albs as Argo\'s built-in router writes them, kept through reconciles, a promotion and an abort', async () => {
    const o = obs();
    const ns = await o.namespace('albstatus');
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
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'demo');
    const res = await resources(o, ns, 'demo', ['demo-stable', 'demo-canary']);
    const want = expectedAlbStatus(res, 'demo', 'demo-stable', 'demo-canary');
    // The forms an AnalysisTemplate builds CloudWatch dimensions from: `app/<fullName>`, `targetgroup/<fullName>`.
    expect(want.loadBalancer.fullName).toMatch(/^k8s-[^/]+\/[0-9a-f]+$/);
    expect(want.canaryTargetGroup.fullName).toMatch(/^k8s-[^/]+\/[0-9a-f]+$/);
    expect(want.canaryTargetGroup.arn).not.toBe(want.stableTargetGroup.arn);
    const installed = await o.rollout(ns, 'demo');
    const beforeUpdate = albFields(installed);
    const firstStable = installed.status?.stableRS;

    const sampler = new StatusSampler(o, ns, 'demo').start();
    await o.setImage(ns, 'demo', 'registry.example.com/demo:2.0.0');
    await o.until('the ALB at canary 20', async () => (canaryShare(await o.albWeights(ns, 'demo', 'demo-stable'), 'demo-canary') === 20 ? true : undefined), 180_000, () => o.diagnose(ns, 'demo'));
    await o.until('the Rollout past its verified 20 %', async () => {
      const st = (await o.rollout(ns, 'demo')).status;
      return st?.currentPodHash !== firstStable && (st?.currentStepIndex ?? 0) >= 1 ? true : undefined;
    }, 60_000, () => o.diagnose(ns, 'demo'));
    // Argo's router writes the fields in the reconcile that verified 20 %; the plugin's write follows its answer.
    const verifiedAt = Date.now();
    const firstWritten = await o.until('status.alb equal to ELBv2\'s load balancer and target groups', async () => {
      const f = albFields(await o.rollout(ns, 'demo'));
      return isDeepStrictEqual(f.alb, want) && isDeepStrictEqual(f.albs, [want]) ? f : undefined;
    }, 60_000, async () => `status: ${JSON.stringify(albFields(await o.rollout(ns, 'demo')))}\nwanted: ${JSON.stringify(want)}\n${await o.diagnose(ns, 'demo')}`);
    const equalAt = Date.now();
    expect(firstWritten.alb).toEqual(want);
    expect.soft(equalAt - verifiedAt, 'ms from the verified 20 % to status.alb').toBeLessThanOrEqual(5000);

    // Further steps (20 → 50), the pause, the promotion: the fields stay, equal, in every sample.
    await o.until('the indefinite pause after 50 %', async () => {
      const ro = await o.rollout(ns, 'demo');
      return ro.status?.currentStepIndex === 3 && ((ro.status as { pauseConditions?: unknown[] }).pauseConditions ?? []).length > 0 ? true : undefined;
    }, 120_000, () => o.diagnose(ns, 'demo'));
    await o.promote(ns, 'demo');
    await o.untilHealthy(ns, 'demo');
    await o.until('the ALB back at canary 0', async () => (canaryShare(await o.albWeights(ns, 'demo', 'demo-stable'), 'demo-canary') === 0 ? true : undefined));
    // A few more reconciles of the promoted Rollout.
    await sleep(3000);
    await sampler.stop();
    const after = sampler.samples.filter((s) => s.at >= equalAt);
    for (const s of after) {
      expect(s.fields.alb, JSON.stringify(s)).toEqual(want);
      expect(s.fields.albs, JSON.stringify(s)).toEqual([want]);
    }
    expect(after.length).toBeGreaterThanOrEqual(20);
    // It outlived the controller's own status writes: many revisions of the Rollout, every step after the first.
    const revisions = new Set(after.map((s) => s.resourceVersion));
    expect(revisions.size, JSON.stringify(after.map((s) => [s.resourceVersion, s.step, s.phase]))).toBeGreaterThanOrEqual(5);
    expect([...new Set(after.map((s) => s.step))]).toEqual(expect.arrayContaining([2, 3, 4]));
    expect(after.at(-1)!.phase).toBe('Healthy');

    // An abort of the next revision: the fields are still there, unchanged (Argo's router never clears them).
    await o.setImage(ns, 'demo', 'registry.example.com/demo:3.0.0');
    await o.until('the ALB at canary 20 again', async () => (canaryShare(await o.albWeights(ns, 'demo', 'demo-stable'), 'demo-canary') === 20 ? true : undefined), 180_000, () => o.diagnose(ns, 'demo'));
    await o.abort(ns, 'demo');
    await o.until('the Rollout Degraded by the abort', async () => ((await o.rollout(ns, 'demo')).status?.phase === 'Degraded' ? true : undefined), 120_000, () => o.diagnose(ns, 'demo'));
    await o.until('the ALB back on stable', async () => (canaryShare(await o.albWeights(ns, 'demo', 'demo-stable'), 'demo-canary') === 0 ? true : undefined));
    const aborted = new StatusSampler(o, ns, 'demo').start();
    await sleep(3000);
    await aborted.stop();
    expect(aborted.samples.length).toBeGreaterThanOrEqual(5);
    for (const s of aborted.samples) {
      expect(s.phase).toBe('Degraded');
      expect(s.fields.alb, JSON.stringify(s)).toEqual(want);
      expect(s.fields.albs, JSON.stringify(s)).toEqual([want]);
    }
    // Before the update (the install): what the fields said, and whether they named every target group.
    const early = sampler.samples.filter((s) => s.at < equalAt && s.fields.alb).map((s) => s.fields.alb!.canaryTargetGroup.name || '(empty)');
    console.log(`A: status.alb before the first update: ${JSON.stringify(beforeUpdate)}; canary target group in samples before the verified 20 %: ${JSON.stringify([...new Set(early)])}; ${after.length} samples over ${revisions.size} Rollout revisions after it`);
  });

  it('B. ping-pong: canaryTargetGroup and stableTargetGroup follow the roles through a promotion', async () => {
    const o = obs();
    const ns = await o.namespace('albpp');
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
  - pause: {}
`),
      ns,
    );
    await o.untilHealthy(ns, 'pp');
    const res = await resources(o, ns, 'pp', ['pp-ping', 'pp-pong']);
    // Argo's roles: ping is stable when status.canary.stablePingPong is "ping", pong otherwise.
    const roles = async () => ((await o.rollout(ns, 'pp')).status?.canary?.stablePingPong === 'ping' ? { stable: 'pp-ping', canary: 'pp-pong' } : { stable: 'pp-pong', canary: 'pp-ping' });
    const rule = () => o.albRules(ns, 'pp').then((rules) => rules.find((r) => 'pp-ping' in r.services || 'pp-pong' in r.services)?.services);
    const albAt = async (svc: string, weight: number) =>
      o.until(`the ALB at ${weight} % on ${svc}`, async () => ((await rule())?.[svc] === weight ? true : undefined), 180_000, () => o.diagnose(ns, 'pp'));
    const statusIs = async (what: string, want: AlbStatus) =>
      o.until(`status.alb ${what}`, async () => {
        const f = albFields(await o.rollout(ns, 'pp'));
        return isDeepStrictEqual(f.alb, want) && isDeepStrictEqual(f.albs, [want]) ? f : undefined;
      }, 60_000, async () => `${JSON.stringify(albFields(await o.rollout(ns, 'pp')))}\nwanted ${JSON.stringify(want)}\n${await o.diagnose(ns, 'pp')}`);

    const r1 = await roles();
    await o.setImage(ns, 'pp', 'registry.example.com/pp:2');
    await albAt(r1.canary, 25);
    const during = expectedAlbStatus(res, 'pp', r1.stable, r1.canary);
    const f1 = await statusIs(`with canary ${r1.canary} and stable ${r1.stable}`, during);
    expect(f1.alb).toEqual(during);
    expect(f1.albs).toEqual([during]);

    await o.promote(ns, 'pp');
    await o.untilHealthy(ns, 'pp');
    const r2 = await roles();
    expect(r2.stable).toBe(r1.canary);
    await albAt(r2.stable, 100);
    // What the fields say once fully promoted (logged: Argo's router stops verifying then, so it keeps the last
    // roles it verified; a few seconds are given for a write that would follow).
    await sleep(5000);
    const afterPromotion = albFields(await o.rollout(ns, 'pp'));
    // Still there after the promotion (which target group it calls canary until the next update is reported).
    expect(afterPromotion.alb?.loadBalancer).toEqual(during.loadBalancer);

    // The next revision goes the other way round: the fields name the swapped target groups.
    await o.setImage(ns, 'pp', 'registry.example.com/pp:3');
    await albAt(r2.canary, 25);
    const swapped = expectedAlbStatus(res, 'pp', r2.stable, r2.canary);
    expect(swapped.canaryTargetGroup).toEqual(during.stableTargetGroup);
    expect(swapped.stableTargetGroup).toEqual(during.canaryTargetGroup);
    const f2 = await statusIs(`swapped: canary ${r2.canary}, stable ${r2.stable}`, swapped);
    expect(f2.alb).toEqual(swapped);
    console.log(`B: status.alb right after the promotion: canary ${afterPromotion.alb?.canaryTargetGroup.name}, stable ${afterPromotion.alb?.stableTargetGroup.name} (ping ${res.targetGroups.get('pp-ping')!.name}, pong ${res.targetGroups.get('pp-pong')!.name}, stable role now ${r2.stable})`);
  });

  // Argo's own CloudWatch provider (metricproviders/cloudwatch): GetMetricData over the last `interval`, the
  // successCondition evaluated on the MetricDataResults in query order. moto evaluates no metric math, so the
  // 5xx rate is computed in the condition.
  const cloudWatchTemplate = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: alb-canary-5xx}
spec:
  args:
  - name: lb
  - name: tg
  metrics:
  - name: canary-5xx-rate
    successCondition: "sum(result[1].Values) >= 100 && sum(result[0].Values) <= 0.05 * sum(result[1].Values)"
    provider:
      cloudWatch:
        interval: 10m
        metricDataQueries:
        - id: errors
          metricStat:
            metric:
              namespace: AWS/ApplicationELB
              metricName: HTTPCode_Target_5XX_Count
              dimensions:
              - {name: LoadBalancer, value: "app/{{args.lb}}"}
              - {name: TargetGroup, value: "targetgroup/{{args.tg}}"}
            period: 60
            stat: Sum
        - id: requests
          metricStat:
            metric:
              namespace: AWS/ApplicationELB
              metricName: RequestCount
              dimensions:
              - {name: LoadBalancer, value: "app/{{args.lb}}"}
              - {name: TargetGroup, value: "targetgroup/{{args.tg}}"}
            period: 60
            stat: Sum
---`;

  const cloudWatchStep = `
  - analysis:
      templates: [{templateName: alb-canary-5xx}]
      args:
      - name: lb
        valueFrom: {fieldRef: {fieldPath: status.alb.loadBalancer.fullName}}
      - name: tg
        valueFrom: {fieldRef: {fieldPath: status.alb.canaryTargetGroup.fullName}}`;

  // The plugin's own metric provider (docs/analysis.md): no args, the Rollout from the AnalysisRun's owner, its
  // load balancers and target groups from the mode. settleDelay 0s: the minutes published just before count.
  const pluginTemplate = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: alb-canary-vs-stable}
spec:
  metrics:
  - name: alb-canary-vs-stable
    provider:
      plugin:
        argoproj-labs/alb-analysis:
          lookback: 5m
          settleDelay: "0s"
          minRequests: 100
          maxErrorRateIncrease: 0.01
          maxLatencyIncrease: 0.2
---`;

  const pluginStep = `
  - analysis:
      templates: [{templateName: alb-canary-vs-stable}]`;

  interface Traffic {
    requests: number;
    errors: number;
  }

  /**
   * A Rollout with `setWeight: 20`, the analysis step, `pause: {}`; traffic published for its canary's and its
   * stable's target group (found in ELBv2) in the five whole minutes before the update; the step's AnalysisRun
   * once finished.
   */
  async function analysisStep(name: string, template: string, step: string, canary: Traffic | undefined, stable: Traffic) {
    const o = obs();
    const ns = await o.namespace(name);
    await o.stack.apply(
      template +
        services([`${name}-stable`, `${name}-canary`], name) +
        ingress(name, `${name}-stable`) +
        rollout(name, name, `
canary:
  stableService: ${name}-stable
  canaryService: ${name}-canary
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: ${name}
        servicePort: 80
  steps:
  - setWeight: 20${step}
  - pause: {}
`),
      ns,
    );
    const installed = await o.untilHealthy(ns, name);
    const res = await resources(o, ns, name, [`${name}-stable`, `${name}-canary`]);
    const want = expectedAlbStatus(res, name, `${name}-stable`, `${name}-canary`);
    const published = await publishAlbTraffic(cloudwatchClient(o.stack.moto.endpoint), res.loadBalancer, [
      ...(canary ? [{ targetGroup: want.canaryTargetGroup, minutes: pastMinutes(5, { ...canary, latency: 0.05 }) }] : []),
      { targetGroup: want.stableTargetGroup, minutes: pastMinutes(5, { ...stable, latency: 0.05 }) },
    ]);
    expect(published).toBeGreaterThan(0);
    await o.setImage(ns, name, `registry.example.com/${name}:2`);
    // The Rollout at the analysis step: its 20 % was verified. A failing analysis can abort the Rollout (its step
    // index back to 0) between two polls, so the step's AnalysisRun existing counts as having reached it too.
    await o.until('the analysis step', async () => {
      const st = (await o.rollout(ns, name)).status;
      if (st?.currentPodHash !== installed.status?.stableRS && (st?.currentStepIndex ?? 0) >= 1) return true;
      return (await analysisRuns(o, ns)).some((r) => r.metadata.labels?.['step-index'] === '1') ? true : undefined;
    }, 180_000, () => o.diagnose(ns, name));
    const stepAt = Date.now();
    const run = await o.until('the AnalysisRun of the analysis step, finished', async () => {
      const ar = (await analysisRuns(o, ns)).find((r) => r.metadata.labels?.['step-index'] === '1');
      return ar && ['Successful', 'Failed', 'Error', 'Inconclusive'].includes(ar.status?.phase ?? '') ? ar : undefined;
    }, 240_000, async () => `${JSON.stringify(await analysisRuns(o, ns))}\n${await o.diagnose(ns, name)}`);
    const measurement = run.status?.metricResults?.[0]?.measurements?.[0];
    expect(measurement, JSON.stringify(run.status)).toBeDefined();
    console.log(`${name}: AnalysisRun ${run.status?.phase}; measurement ${measurement?.phase}: ${measurement?.message ?? measurement?.value}`);
    return { o, ns, run, want, stepAt, measurement: measurement! };
  }

  /** Created when the step was reached, not after Argo retried its creation for lack of status.alb. */
  function createdPromptly(o: Observer, ns: string, run: AnalysisRun, stepAt: number): void {
    const createdAt = Date.parse(run.metadata.creationTimestamp ?? '');
    // Each retry is a failed reconcile: "invalid path status.alb.canaryTargetGroup.fullName in rollout".
    const invalidPath = o.stack.logs('controller', 5_000_000).split('\n').filter((l) => l.includes('invalid path') && l.includes(`namespace=${ns}`) && l.includes('roCtx.reconcile err')).length;
    console.log(`${ns}: AnalysisRun created ${createdAt - stepAt} ms after the step was seen (creationTimestamp has 1 s resolution); reconciles failed with "invalid path" before: ${invalidPath}`);
    expect.soft(createdAt - stepAt, 'ms from the analysis step to its AnalysisRun').toBeLessThanOrEqual(10_000);
  }

  async function untilAborted(o: Observer, ns: string, name: string): Promise<RolloutObject> {
    const ro = await o.until('the Rollout aborted', async () => {
      const r = await o.rollout(ns, name);
      return r.status?.abort && r.status.phase === 'Degraded' ? r : undefined;
    }, 120_000, () => o.diagnose(ns, name));
    // The ALB as ELBv2 has it: everything on the stable again.
    await o.until('the ALB back at 100 % stable', async () => (canaryShare(await o.albWeights(ns, name, `${name}-stable`), `${name}-canary`) === 0 ? true : undefined), 120_000, () => o.diagnose(ns, name));
    return ro;
  }

  /** Paused by the analysis or at the pause after it, the ALB still at 20 %. */
  async function pausedAt(o: Observer, ns: string, name: string, step: number): Promise<RolloutObject & { status: { pauseConditions?: Array<{ reason: string }> } }> {
    const ro = (await o.untilPaused(ns, name)) as RolloutObject & { status: { pauseConditions?: Array<{ reason: string }> } };
    expect(ro.status.currentStepIndex).toBe(step);
    expect(ro.status.abort).toBeFalsy();
    expect(canaryShare(await o.albWeights(ns, name, `${name}-stable`), `${name}-canary`)).toBe(20);
    return ro;
  }

  it('C1. Argo\'s CloudWatch provider, args from status.alb.*.fullName: a healthy canary passes and the rollout goes on', async () => {
    // Canary 0.5 % 5xx (1 of 200 a minute), stable 25 %: only the canary's target group passes the condition, and
    // a query that named no load balancer would find no requests.
    const { o, ns, run, want, stepAt, measurement } = await analysisStep('cwgood', cloudWatchTemplate, cloudWatchStep, { requests: 200, errors: 1 }, { requests: 800, errors: 200 });
    // The arguments carry the real names, resolved from status.alb when the run was created.
    expect(Object.fromEntries((run.spec.args ?? []).map((a) => [a.name, a.value]))).toEqual({ lb: want.loadBalancer.fullName, tg: want.canaryTargetGroup.fullName });
    createdPromptly(o, ns, run, stepAt);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('Successful');
    // errors, then requests, over the five published minutes.
    expect(measurement.value).toBe('[[1 1 1 1 1] [200 200 200 200 200]]');
    const ro = await pausedAt(o, ns, 'cwgood', 2);
    expect(ro.status.pauseConditions?.map((c) => c.reason)).toEqual(['CanaryPauseStep']);
  });

  it('C2. Argo\'s CloudWatch provider, args from status.alb.*.fullName: a canary answering 5xx fails and Argo aborts', async () => {
    // Canary 20 % 5xx (40 of 200 a minute), stable 0.5 %.
    const { o, ns, run, want, stepAt, measurement } = await analysisStep('cwbad', cloudWatchTemplate, cloudWatchStep, { requests: 200, errors: 40 }, { requests: 800, errors: 4 });
    expect(Object.fromEntries((run.spec.args ?? []).map((a) => [a.name, a.value]))).toEqual({ lb: want.loadBalancer.fullName, tg: want.canaryTargetGroup.fullName });
    createdPromptly(o, ns, run, stepAt);
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('Failed');
    expect(measurement.value).toBe('[[40 40 40 40 40] [200 200 200 200 200]]');
    const ro = await untilAborted(o, ns, 'cwbad');
    expect(ro.status?.message).toContain('canary-5xx-rate');
  });

  interface PluginValue {
    canaryWeight: number;
    loadBalancers: string[];
    canary: { targetGroups: string[]; requests: number; errors: number };
    stable: { targetGroups: string[]; requests: number; errors: number };
    checks: Array<{ check: string; result: string }>;
  }

  /** What the plugin measured: the load balancer and target groups ELBv2 has, the published totals. */
  function measuredOn(m: { value?: string; metadata?: Record<string, string> }, want: AlbStatus): PluginValue {
    const v = JSON.parse(m.value ?? 'null') as PluginValue;
    expect(v.canaryWeight).toBe(20);
    expect(v.loadBalancers).toEqual([want.loadBalancer.name]);
    expect(v.canary.targetGroups).toEqual([want.canaryTargetGroup.name]);
    expect(v.stable.targetGroups).toEqual([want.stableTargetGroup.name]);
    expect(m.metadata).toMatchObject({
      loadBalancers: `app/${want.loadBalancer.fullName}`,
      canaryTargetGroups: `targetgroup/${want.canaryTargetGroup.fullName}`,
      stableTargetGroups: `targetgroup/${want.stableTargetGroup.fullName}`,
    });
    // The window holds the five published minutes, or four of them when the measurement's minute is the next one.
    expect([4, 5]).toContain(v.stable.requests / 800);
    return v;
  }

  it('D1. the plugin\'s metric provider: a canary as healthy as the stable is Successful and the rollout goes on', async () => {
    const { o, ns, run, want, measurement } = await analysisStep('plgood', pluginTemplate, pluginStep, { requests: 200, errors: 1 }, { requests: 800, errors: 4 });
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('Successful');
    const v = measuredOn(measurement, want);
    expect(v.canary.errors / v.canary.requests).toBeCloseTo(0.005, 6);
    expect(v.checks.map((c) => [c.check, c.result])).toEqual([['maxErrorRateIncrease', 'pass'], ['maxLatencyIncrease', 'pass']]);
    const ro = await pausedAt(o, ns, 'plgood', 2);
    expect(ro.status.pauseConditions?.map((c) => c.reason)).toEqual(['CanaryPauseStep']);
  });

  it('D2. the plugin\'s metric provider: canary 5xx well above the stable\'s is Failed, Argo aborts, the ALB is back on stable', async () => {
    const { o, ns, run, want, measurement } = await analysisStep('plbad', pluginTemplate, pluginStep, { requests: 200, errors: 40 }, { requests: 800, errors: 4 });
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('Failed');
    expect(measurement.message).toMatch(/^canary failed maxErrorRateIncrease: canary 5xx rate 20 %/);
    const v = measuredOn(measurement, want);
    expect(v.checks.find((c) => c.check === 'maxErrorRateIncrease')?.result).toBe('fail');
    const ro = await untilAborted(o, ns, 'plbad');
    expect(ro.status?.message).toContain('alb-canary-vs-stable');
  });

  it('D3. the plugin\'s metric provider: no canary traffic is Inconclusive and the rollout pauses', async () => {
    const { o, ns, run, want, measurement } = await analysisStep('plquiet', pluginTemplate, pluginStep, undefined, { requests: 800, errors: 4 });
    expect(run.status?.phase, JSON.stringify(run.status)).toBe('Inconclusive');
    expect(measurement.message).toMatch(/^canary served 0 requests .*fewer than minRequests 100: not enough traffic to judge/);
    const v = measuredOn(measurement, want);
    expect(v.canary.requests).toBe(0);
    const ro = await pausedAt(o, ns, 'plquiet', 1);
    expect(ro.status.phase).toBe('Paused');
    expect(ro.status.pauseConditions?.map((c) => c.reason)).toEqual(['InconclusiveAnalysisRun']);
  });
});
