// The ALB metric provider over a mode table with a stand-in Mode (albTargets answers ARNs), a stand-in Rollout
// getter and a CloudWatch stand-in that answers MetricStat queries from a table (as measure.test.ts's): every
// way a measurement ends, what it carries (value, metadata, times), the one GetMetricData per measurement, what
// is never asked when the answer is known before, deadlines, and the verbs around Run.
import { describe, expect, it } from 'vitest';
import { createAlbMetricProvider, METRIC_PROVIDER_TYPE, type AlbMetricProviderDeps } from '../../src/analysis/provider.js';
import type { Rollout } from '../../src/core/rollout.js';
import type { CallContext } from '../../src/plugin/call.js';
import type { AnalysisRun, JsonValue, Measurement, Metric } from '../../src/plugin/metric-provider.js';
import type { AlbTargets, Mode } from '../../src/plugin/mode.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import { fakeCloudWatch, publish, type CwCall, type Store } from './fake-cloudwatch.js';

const ROUTER = 'argoproj-labs/alb';
const ANALYSIS = 'argoproj-labs/alb-analysis';
const ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012';
const LB_ARN = `${ARN}:loadbalancer/app/k8s-demo-shop-0123456789/50dc6c495c0c9188`;
const LB2_ARN = `${ARN}:loadbalancer/app/k8s-demo-shop-int-0123456789/7a1b2c3d4e5f6071`;
const CANARY_ARN = `${ARN}:targetgroup/k8s-demo-canary-73e2d6bc24/73e2d6bc24d8a067`;
const STABLE_ARN = `${ARN}:targetgroup/k8s-demo-stable-0a1b2c3d4e/0a1b2c3d4e5f6a7b`;
const LB = 'app/k8s-demo-shop-0123456789/50dc6c495c0c9188';
const CANARY = 'targetgroup/k8s-demo-canary-73e2d6bc24/73e2d6bc24d8a067';
const STABLE = 'targetgroup/k8s-demo-stable-0a1b2c3d4e/0a1b2c3d4e5f6a7b';
const NOW = new Date('2025-06-01T10:07:30Z'); // window 10:00–10:05 with the defaults
const UID = '0f6c2b1e-7d1a-4c0e-9a56-1c2d3e4f5a6b';

// ---- Rollout, AnalysisRun, Metric --------------------------------------------------------------------------

function rollout(o: { weight?: number | null; plugins?: Record<string, unknown>; uid?: string } = {}): Rollout {
  const weight = o.weight === undefined ? 20 : o.weight;
  return {
    metadata: { name: 'shop', namespace: 'demo', uid: o.uid ?? UID },
    spec: {
      strategy: {
        canary: {
          canaryService: 'shop-canary',
          stableService: 'shop-stable',
          trafficRouting: { plugins: o.plugins ?? { [ROUTER]: { ingress: 'shop', servicePort: 80 } } },
        },
      },
    },
    status: weight === null ? {} : { canary: { weights: { canary: { weight, serviceName: 'shop-canary' }, stable: { weight: 100 - weight, serviceName: 'shop-stable' } } } },
  } as Rollout;
}

function analysisRun(owners: AnalysisRun['metadata']['ownerReferences'] = [
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'shop', uid: UID, controller: true, blockOwnerDeletion: true },
]): AnalysisRun {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name: 'shop-7d9f8c6b5-2-1', namespace: 'demo', labels: { 'rollouts-pod-template-hash': '7d9f8c6b5' }, ownerReferences: owners },
    spec: { metrics: [] },
  };
}

/** `absent`: the metric's provider.plugin has no entry for this plugin. */
function metric(block: JsonValue | 'absent' = { maxErrorRateIncrease: 0.01 }, name = 'alb-errors'): Metric {
  return { name, interval: '1m', provider: { plugin: block === 'absent' ? {} : { [ANALYSIS]: block } } };
}

// ---- the provider over stand-ins ---------------------------------------------------------------------------

interface Setup {
  targets?: AlbTargets[] | (() => Promise<AlbTargets[]>);
  rollout?: Rollout | undefined | (() => Promise<Rollout | undefined>);
  verificationEnabled?: boolean;
  store?: Store;
  cloudwatchFails?: (signal?: AbortSignal) => Promise<never>;
}

function setup(s: Setup = {}) {
  const cwCalls: CwCall[] = [];
  const albCalls: Array<{ rollout: Rollout; signal: AbortSignal }> = [];
  const gets: Array<[string, string]> = [];
  const store = s.store ?? new Map();
  const mode: Mode = {
    name: 'ingress',
    claims: () => true,
    readable: () => true,
    router: {} as Mode['router'],
    cleanup: {} as Mode['cleanup'],
    report: () => Promise.reject(new Error('not used')),
    albTargets: async (r, signal) => {
      albCalls.push({ rollout: r, signal });
      const t = s.targets ?? [{ ingress: 'shop', loadBalancerArn: LB_ARN, canaryTargetGroupArn: CANARY_ARN, stableTargetGroupArn: STABLE_ARN }];
      return typeof t === 'function' ? t() : t;
    },
  };
  const deps: AlbMetricProviderDeps = {
    metricPluginName: ANALYSIS,
    modes: new ModeTable(ROUTER, [mode]),
    getRollout: async (ns, name) => {
      gets.push([ns, name]);
      const r = 'rollout' in s ? s.rollout : rollout();
      return typeof r === 'function' ? r() : r;
    },
    cloudwatch: fakeCloudWatch(store, cwCalls, s.cloudwatchFails),
    verificationEnabled: s.verificationEnabled ?? true,
    now: () => NOW,
  };
  return { provider: createAlbMetricProvider(deps), cwCalls, albCalls, gets, store };
}

function healthyStore(): Store {
  const store: Store = new Map();
  publish(store, LB, CANARY, 100, { 2: 1 });
  publish(store, LB, STABLE, 400, { 1: 2, 3: 1 });
  return store;
}

const call = (timeoutMs = 25_000, ac = new AbortController()): CallContext & { ac: AbortController } => ({
  signal: ac.signal,
  deadline: Date.now() + timeoutMs,
  timeoutMs,
  ac,
});

describe('ALB metric provider: Run', () => {
  it('a healthy canary is Successful: one GetMetricData on the dimensions of the mode\'s ARNs; value, metadata and times', async () => {
    const { provider, cwCalls, albCalls, gets } = setup({ store: healthyStore() });
    const c = call();
    const m = await provider.run(analysisRun(), metric({ maxErrorRateIncrease: 0.01, maxLatencyIncrease: 0.2 }), c);

    expect(m.phase).toBe('Successful');
    expect(m.message).toMatch(/^canary passed 2 checks over 5 min \(10:00–10:05 UTC\): canary 5xx rate 0\.2 % \(1 of 500 requests\) ≤ stable 0\.15 %/);
    expect(m.startedAt).toBe('2025-06-01T10:07:30.000Z');
    expect(m.finishedAt).toBe('2025-06-01T10:07:30.000Z');
    expect(JSON.parse(m.value!)).toMatchObject({
      window: { start: '2025-06-01T10:00:00.000Z', end: '2025-06-01T10:05:00.000Z', minutes: 5 },
      canaryWeight: 20,
      loadBalancers: ['k8s-demo-shop-0123456789'],
      canary: { targetGroups: ['k8s-demo-canary-73e2d6bc24'], requests: 500, errors: 1 },
      stable: { targetGroups: ['k8s-demo-stable-0a1b2c3d4e'], requests: 2000, errors: 3 },
    });
    expect(m.metadata).toEqual({
      rollout: 'demo/shop',
      mode: 'ingress',
      canaryWeight: '20',
      loadBalancers: LB,
      canaryTargetGroups: CANARY,
      stableTargetGroups: STABLE,
    });

    expect(gets).toEqual([['demo', 'shop']]);
    expect(albCalls).toHaveLength(1);
    expect(cwCalls).toHaveLength(1);
    const dims = cwCalls[0]!.input.MetricDataQueries!.map((q) => Object.fromEntries(q.MetricStat!.Metric!.Dimensions!.map((d) => [d.Name, d.Value])));
    expect(new Set(dims.map((d) => `${d.LoadBalancer} ${d.TargetGroup}`))).toEqual(new Set([`${LB} ${CANARY}`, `${LB} ${STABLE}`]));
    // Inner steps get a signal of their own that fires before the call's deadline, not the call's signal itself.
    expect(cwCalls[0]!.signal).toBeDefined();
    expect(cwCalls[0]!.signal).not.toBe(c.signal);
    expect(albCalls[0]!.signal).toBe(cwCalls[0]!.signal);
  });

  it('canary 5xx far above the stable is Failed, naming the check and the numbers', async () => {
    const store: Store = new Map();
    publish(store, LB, CANARY, 100, { 0: 10, 1: 12, 2: 9, 3: 11, 4: 8 });
    publish(store, LB, STABLE, 400, { 4: 1 });
    const { provider, cwCalls } = setup({ store });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Failed');
    expect(m.message).toMatch(/^canary failed maxErrorRateIncrease: canary 5xx rate 10 % \(50 of 500 requests\) > stable 0\.05 % \(1 of 2000 requests\)/);
    expect(JSON.parse(m.value!).checks).toEqual([{ check: 'maxErrorRateIncrease', result: 'fail', observed: 0.1, limit: 0.0105 }]);
    expect(cwCalls).toHaveLength(1);
  });

  it('no traffic is Inconclusive (one GetMetricData, nothing published)', async () => {
    const { provider, cwCalls } = setup();
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Inconclusive');
    expect(m.message).toMatch(/^canary served 0 requests in 5 min .*fewer than minRequests 50/);
    expect(JSON.parse(m.value!).canary.requests).toBe(0);
    expect(cwCalls).toHaveLength(1);
  });

  it('canary weight 0 is Inconclusive without asking ELBv2 or CloudWatch', async () => {
    const { provider, cwCalls, albCalls } = setup({ rollout: rollout({ weight: 0 }), store: healthyStore() });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m).toMatchObject({ phase: 'Inconclusive', metadata: { rollout: 'demo/shop', mode: 'ingress', canaryWeight: '0' } });
    expect(m.message).toBe('canary weight of Rollout demo/shop is 0: no traffic reaches the canary, so there is nothing to judge');
    expect(m.value).toBeUndefined();
    expect(albCalls).toHaveLength(0);
    expect(cwCalls).toHaveLength(0);
  });

  it('a Rollout without status.canary.weights is judged on requests alone (weight unknown)', async () => {
    const { provider } = setup({ rollout: rollout({ weight: null }), store: healthyStore() });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Successful');
    expect(JSON.parse(m.value!).canaryWeight).toBeNull();
    expect(m.metadata!.canaryWeight).toBeUndefined();
  });

  it('a bad configuration is Error naming the field path and the fix, before anything is read', async () => {
    const { provider, gets, cwCalls } = setup();
    const m = await provider.run(analysisRun(), metric({ maxErrorRate: 5 }, 'errors'), call());
    expect(m.phase).toBe('Error');
    expect(m.message).toBe(
      'spec.metrics[name="errors"].provider.plugin["argoproj-labs/alb-analysis"].maxErrorRate: 5 is above 1: it is a fraction, not a percentage (for 5 % write 0.05)',
    );
    expect(m.startedAt).toBeDefined();
    expect(m.finishedAt).toBeDefined();
    expect(gets).toEqual([]);
    expect(cwCalls).toEqual([]);

    const unknown = await provider.run(analysisRun(), metric({ interval: '5m', maxErrorRate: 0.05 }), call());
    expect(unknown.message).toMatch(/\.provider\.plugin\["argoproj-labs\/alb-analysis"\]\.interval: unknown field; interval is the metric's own field/);
    const none = await provider.run(analysisRun(), metric({}), call());
    expect(none.message).toMatch(/\["argoproj-labs\/alb-analysis"\]: no check is configured/);
    // The metric names another plugin only (Argo would not send it here): the block is missing.
    const missing = await provider.run(analysisRun(), metric('absent'), call());
    expect(missing).toMatchObject({ phase: 'Error' });
    expect(missing.message).toMatch(/\["argoproj-labs\/alb-analysis"\]: missing; configure at least one check/);
  });

  it('an AnalysisRun without a Rollout owner is Error saying so', async () => {
    const { provider, gets } = setup();
    const none = await provider.run(analysisRun([]), metric(), call());
    expect(none.phase).toBe('Error');
    expect(none.message).toMatch(/^AnalysisRun demo\/shop-7d9f8c6b5-2-1 has no Rollout owner \(ownerReferences: none\): ALB analysis measures the Rollout/);
    const experiment = await provider.run(
      analysisRun([{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Experiment', name: 'shop-exp', uid: 'u', controller: true }]),
      metric(),
      call(),
    );
    expect(experiment.phase).toBe('Error');
    expect(experiment.message).toMatch(/has no Rollout owner \(ownerReferences: Experiment\)/);
    // A "Rollout" of another API group is not Argo's.
    const other = await provider.run(analysisRun([{ apiVersion: 'example.com/v1', kind: 'Rollout', name: 'shop', uid: 'u' }]), metric(), call());
    expect(other.message).toMatch(/has no Rollout owner/);
    expect(gets).toEqual([]);
  });

  it('the owning Rollout gone, replaced or unreadable: Error with the reason', async () => {
    const gone = await setup({ rollout: undefined }).provider.run(analysisRun(), metric(), call());
    expect(gone).toMatchObject({ phase: 'Error', message: 'Rollout demo/shop, the owner of AnalysisRun shop-7d9f8c6b5-2-1, does not exist', metadata: { rollout: 'demo/shop' } });

    const replaced = await setup({ rollout: rollout({ uid: 'another-uid' }) }).provider.run(analysisRun(), metric(), call());
    expect(replaced.phase).toBe('Error');
    expect(replaced.message).toMatch(/^Rollout demo\/shop was replaced \(uid another-uid/);

    // As src/server/kube.ts kubeRolloutGetter words it; another getter's error gets the prefix.
    const forbidden = await setup({ rollout: () => Promise.reject(new Error('reading Rollout demo/shop: HTTP 403')) }).provider.run(analysisRun(), metric(), call());
    expect(forbidden).toMatchObject({ phase: 'Error', message: 'reading Rollout demo/shop: HTTP 403' });
    const reset = await setup({ rollout: () => Promise.reject(new Error('ECONNRESET')) }).provider.run(analysisRun(), metric(), call());
    expect(reset).toMatchObject({ phase: 'Error', message: 'reading Rollout demo/shop: ECONNRESET' });
  });

  it('a Rollout that does not use the traffic-router plugin is Error naming it', async () => {
    const { provider, albCalls } = setup({ rollout: rollout({ plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'shop' } } }) });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Error');
    expect(m.message).toBe(
      'Rollout demo/shop does not use the traffic-router plugin "argoproj-labs/alb" (spec.strategy.canary.trafficRouting.plugins["argoproj-labs/alb"]): ' +
        'ALB analysis finds the load balancers and target groups through it',
    );
    expect(albCalls).toHaveLength(0);
  });

  it('verification off is Error naming --aws-verify-target-group, without asking the mode', async () => {
    const { provider, albCalls, cwCalls } = setup({ verificationEnabled: false, store: healthyStore() });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(/^ALB analysis needs the sidecar's --aws-verify-target-group \(ALB_PLUGIN_AWS_VERIFY_TARGET_GROUP=true\)/);
    expect(albCalls).toHaveLength(0);
    expect(cwCalls).toHaveLength(0);
  });

  it('no load balancer found yet is Inconclusive with the reason; CloudWatch is not asked', async () => {
    const empty = setup({ targets: [] });
    const m = await empty.provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Inconclusive');
    expect(m.message).toBe(
      'Rollout demo/shop (ingress mode) has no load balancer with a canary and a stable target group yet (no load balancer found for its current weights); ' +
        'the AWS Load Balancer Controller may still be building it',
    );
    expect(empty.cwCalls).toHaveLength(0);

    const noCanary = setup({ targets: [{ ingress: 'shop', loadBalancerArn: LB_ARN, stableTargetGroupArn: STABLE_ARN }] });
    const n = await noCanary.provider.run(analysisRun(), metric(), call());
    expect(n.phase).toBe('Inconclusive');
    expect(n.message).toContain('(k8s-demo-shop-0123456789 (Ingress shop): no canary target group)');
    expect(noCanary.cwCalls).toHaveLength(0);
  });

  it('a load balancer without both target groups is left out and named; the others are measured', async () => {
    const store = healthyStore();
    const { provider, cwCalls } = setup({
      store,
      targets: [
        { ingress: 'shop', loadBalancerArn: LB_ARN, canaryTargetGroupArn: CANARY_ARN, stableTargetGroupArn: STABLE_ARN },
        { ingress: 'shop-int', loadBalancerArn: LB2_ARN, stableTargetGroupArn: STABLE_ARN },
        // The same pair through a second Ingress of the group is measured once.
        { ingress: 'shop-2', loadBalancerArn: LB_ARN, canaryTargetGroupArn: CANARY_ARN, stableTargetGroupArn: STABLE_ARN },
      ],
    });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Successful');
    expect(m.message).toMatch(/; not measured: k8s-demo-shop-int-0123456789 \(Ingress shop-int\): no canary target group$/);
    expect(m.metadata!.loadBalancers).toBe(LB);
    expect(cwCalls).toHaveLength(1);
    expect(cwCalls[0]!.input.MetricDataQueries).toHaveLength(6);
  });

  it('two load balancers: one GetMetricData; metadata lists both', async () => {
    const LB2 = 'app/k8s-demo-shop-int-0123456789/7a1b2c3d4e5f6071';
    const CANARY2_ARN = `${ARN}:targetgroup/k8s-demo-canary-int/1111111111111111`;
    const STABLE2_ARN = `${ARN}:targetgroup/k8s-demo-stable-int/2222222222222222`;
    const { provider, cwCalls } = setup({
      store: healthyStore(),
      targets: [
        { loadBalancerArn: LB_ARN, canaryTargetGroupArn: CANARY_ARN, stableTargetGroupArn: STABLE_ARN },
        { loadBalancerArn: LB2_ARN, canaryTargetGroupArn: CANARY2_ARN, stableTargetGroupArn: STABLE2_ARN },
      ],
    });
    const m = await provider.run(analysisRun(), metric({ maxErrorRateIncrease: 0.01, maxElb5xxCount: 5 }), call());
    expect(m.phase).toBe('Successful');
    expect(m.metadata).toMatchObject({
      loadBalancers: `${LB},${LB2}`,
      canaryTargetGroups: `${CANARY},targetgroup/k8s-demo-canary-int/1111111111111111`,
      stableTargetGroups: `${STABLE},targetgroup/k8s-demo-stable-int/2222222222222222`,
    });
    expect(cwCalls).toHaveLength(1);
    expect(cwCalls[0]!.input.MetricDataQueries).toHaveLength(14);
  });

  it('the mode failing to finish its check is Error with its reason', async () => {
    const { provider, cwCalls } = setup({ targets: () => Promise.reject(new Error('ELBv2 DescribeRules was throttled 6 times in a row')) });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m).toMatchObject({
      phase: 'Error',
      message: 'finding the load balancers and target groups of Rollout demo/shop (ingress mode): ELBv2 DescribeRules was throttled 6 times in a row',
      metadata: { rollout: 'demo/shop', mode: 'ingress', canaryWeight: '20' },
    });
    expect(cwCalls).toHaveLength(0);
  });

  it('CloudWatch failing is Error with the reason (and the fix for AccessDenied)', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const { provider, cwCalls } = setup({ cloudwatchFails: () => Promise.reject(denied) });
    const m = await provider.run(analysisRun(), metric(), call());
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(/^CloudWatch GetMetricData was refused \(AccessDenied\): the sidecar's role needs cloudwatch:GetMetricData/);
    expect(m.metadata).toMatchObject({ loadBalancers: LB });
    expect(cwCalls).toHaveLength(1);
  });

  it('without a call context (no deadline) it measures all the same', async () => {
    const { provider } = setup({ store: healthyStore() });
    expect((await provider.run(analysisRun(), metric())).phase).toBe('Successful');
  });
});

describe('ALB metric provider: deadlines', () => {
  it('the call\'s own abort is thrown (the go-plugin layer has answered Argo already)', async () => {
    const c = call();
    const { provider } = setup({
      cloudwatchFails: () => {
        c.ac.abort(new Error('plugin call timed out after 25 s'));
        return Promise.reject(new Error('aborted'));
      },
    });
    await expect(provider.run(analysisRun(), metric(), c)).rejects.toThrow();
  });

  it('a step that would run past the call\'s budget ends with Error before the deadline', async () => {
    // 1.5 s deadline: the budget is the deadline minus 150 ms kept for answering.
    const c = call(1500);
    const never = new Promise<Rollout | undefined>(() => {});
    const { provider } = setup({ rollout: () => never });
    const t0 = Date.now();
    const m = await provider.run(analysisRun(), metric(), c);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(/^reading Rollout demo\/shop: no answer within \d+ ms, the time left before the plugin call's deadline/);
    expect(c.signal.aborted).toBe(false);
  });

  it('a mode check that outlives the budget is Error naming the mode, whether or not the mode honours the signal', async () => {
    const c = call(1500);
    const { provider, cwCalls } = setup({ targets: () => new Promise<AlbTargets[]>(() => {}) });
    const m = await provider.run(analysisRun(), metric(), c);
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(/^finding the load balancers and target groups of Rollout demo\/shop \(ingress mode\): no answer within \d+ ms/);
    expect(cwCalls).toHaveLength(0);
  });

  it('a CloudWatch call cut by the step budget is Error, not thrown', async () => {
    const c = call(1500);
    // Like createCloudWatch: the request ends when its signal fires.
    const { provider } = setup({
      cloudwatchFails: (signal) => new Promise<never>((_, reject) => signal!.addEventListener('abort', () => reject(signal!.reason as Error), { once: true })),
    });
    const m = await provider.run(analysisRun(), metric(), c);
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(/^CloudWatch GetMetricData: no answer within \d+ ms, the time left before the plugin call's deadline/);
    expect(m.metadata).toMatchObject({ rollout: 'demo/shop' });
    expect(c.signal.aborted).toBe(false);
  });
});

describe('ALB metric provider: the other verbs', () => {
  const finishedOne: Measurement = { phase: 'Failed', message: 'x', startedAt: '2025-06-01T10:06:00Z', finishedAt: '2025-06-01T10:06:01Z', value: '{}' };

  it('Type, InitPlugin, GarbageCollect: nothing kept, nothing to do', async () => {
    const { provider } = setup();
    expect(provider.type()).toBe(METRIC_PROVIDER_TYPE);
    await expect(provider.initPlugin()).resolves.toBeUndefined();
    await expect(provider.garbageCollect(analysisRun(), metric(), 10)).resolves.toBeUndefined();
  });

  it('Resume: a finished measurement goes back as it is; one in flight was not started here and is closed as Error', async () => {
    const { provider } = setup();
    expect(await provider.resume(analysisRun(), metric(), finishedOne)).toEqual(finishedOne);
    const running = await provider.resume(analysisRun(), metric(), { phase: 'Running', startedAt: '2025-06-01T10:06:00Z' });
    expect(running).toMatchObject({ phase: 'Error', startedAt: '2025-06-01T10:06:00Z', finishedAt: NOW.toISOString() });
    expect(running.message).toMatch(/finishes every measurement in Run/);
  });

  it('Terminate: finished as it is, or Successful when it was still running', async () => {
    const { provider } = setup();
    expect(await provider.terminate(analysisRun(), metric(), finishedOne)).toEqual(finishedOne);
    expect(await provider.terminate(analysisRun(), metric(), { phase: 'Running', startedAt: '2025-06-01T10:06:00Z' })).toEqual({
      phase: 'Successful',
      startedAt: '2025-06-01T10:06:00Z',
      finishedAt: NOW.toISOString(),
    });
    expect(await provider.terminate(analysisRun(), metric(), { phase: 'Inconclusive', message: 'm' })).toEqual({
      phase: 'Inconclusive',
      message: 'm',
      finishedAt: NOW.toISOString(),
    });
  });

  it('GetMetadata: the configuration with its defaults as text; {} when it cannot be read', async () => {
    const { provider } = setup();
    expect(await provider.getMetadata(metric({ maxErrorRate: '0.05', maxLatencyIncrease: 0.2, lookback: '10m' }))).toEqual({
      lookback: '10m',
      settleDelay: '2m',
      minRequests: '50',
      maxErrorRate: '0.05',
      maxLatencyIncrease: '0.2',
    });
    expect(await provider.getMetadata(metric({ maxErrorRate: 5 }))).toEqual({});
    expect(await provider.getMetadata(metric('absent'))).toEqual({});
  });
});
