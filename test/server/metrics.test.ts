import { describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.js';
import {
  countingRouter,
  createMetrics,
  elbv2CallHook,
  pluginServerHooks,
  verdictOf,
  type Verdict,
} from '../../src/metrics.js';
import { IDLE_VERBS, RpcVerified, type TrafficRouter, type VerifyWeightResult } from '../../src/plugin/router.js';
import { canaryRollout, fakeSource, PLUGIN } from './fixtures.js';

async function scrape(m: ReturnType<typeof createMetrics>): Promise<string> {
  const app = buildServer({ registry: m.registry, readiness: [], reports: fakeSource([]), pluginName: PLUGIN });
  try {
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(m.registry.contentType);
    return res.body;
  } finally {
    await app.close();
  }
}

function sample(text: string, line: string): number | undefined {
  const hit = text.split('\n').find((l) => l.startsWith(line + ' '));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

describe('/metrics', () => {
  it('exposes every metric family, even before anything happened', async () => {
    const text = await scrape(createMetrics());
    for (const name of [
      'alb_plugin_rpc_calls_total',
      'alb_plugin_rpc_duration_seconds',
      'alb_plugin_elbv2_calls_total',
      'alb_plugin_weight_verifications_total',
      'alb_plugin_kubernetes_patch_conflicts_total',
      'alb_plugin_plugin_sessions_open',
      'alb_plugin_events_emitted_total',
      'alb_plugin_ingress_cleanups_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(sample(text, 'alb_plugin_plugin_sessions_open')).toBe(0);
  });

  it('includes Node process metrics when asked', async () => {
    const text = await scrape(createMetrics({ processMetrics: true }));
    expect(text).toContain('alb_plugin_process_cpu_seconds_total');
  });

  it('counts plugin calls, latency and open sessions through the plugin-server hooks', async () => {
    const m = createMetrics();
    const hooks = pluginServerHooks(m);
    hooks.onSessionOpen();
    hooks.onSessionOpen();
    hooks.onSessionClose();
    hooks.onCall('SetWeight', 'ok', 0.02);
    hooks.onCall('SetWeight', 'ok', 0.3);
    hooks.onCall('VerifyWeight', 'error', 1.5);
    const text = await scrape(m);
    expect(sample(text, 'alb_plugin_plugin_sessions_open')).toBe(1);
    expect(sample(text, 'alb_plugin_rpc_calls_total{method="SetWeight",outcome="ok"}')).toBe(2);
    expect(sample(text, 'alb_plugin_rpc_calls_total{method="VerifyWeight",outcome="error"}')).toBe(1);
    expect(sample(text, 'alb_plugin_rpc_duration_seconds_bucket{le="0.025",method="SetWeight",outcome="ok"}')).toBe(1);
    expect(sample(text, 'alb_plugin_rpc_duration_seconds_bucket{le="0.5",method="SetWeight",outcome="ok"}')).toBe(2);
    expect(sample(text, 'alb_plugin_rpc_duration_seconds_sum{method="SetWeight",outcome="ok"}')).toBeCloseTo(0.32);
  });

  it('counts ELBv2 calls by operation and outcome', async () => {
    const m = createMetrics();
    const onCall = elbv2CallHook(m);
    onCall('DescribeRules', 'ok');
    onCall('DescribeRules', 'throttled');
    onCall('DescribeRules', 'ok');
    const text = await scrape(m);
    expect(sample(text, 'alb_plugin_elbv2_calls_total{operation="DescribeRules",outcome="ok"}')).toBe(2);
    expect(sample(text, 'alb_plugin_elbv2_calls_total{operation="DescribeRules",outcome="throttled"}')).toBe(1);
  });
});

describe('verification verdicts', () => {
  it.each<[RpcVerified, string | undefined, Verdict]>([
    [RpcVerified.Verified, undefined, 'verified'],
    [RpcVerified.NotVerified, undefined, 'not_verified'],
    [RpcVerified.NotImplemented, undefined, 'not_implemented'],
    [RpcVerified.NotVerified, 'Throttling: Rate exceeded', 'error'],
  ])('verdictOf(%s, %s) is %s', (verified, err, verdict) => {
    expect(verdictOf(verified, err)).toBe(verdict);
  });

  it('counts each verdict of the wrapped router (every mode) and passes results and failures through', async () => {
    const m = createMetrics();
    const answers: Array<VerifyWeightResult | Error> = [
      { verified: RpcVerified.Verified },
      { verified: RpcVerified.NotVerified },
      { verified: RpcVerified.Verified },
      new Error('DescribeRules: AccessDenied'),
    ];
    const refuse = async (): Promise<void> => {
      throw new Error('not this verb');
    };
    const inner: TrafficRouter = {
      ...IDLE_VERBS,
      setWeight: refuse,
      setHeaderRoute: refuse,
      setMirrorRoute: refuse,
      removeManagedRoutes: refuse,
      async verifyWeight() {
        const next = answers.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
    };
    const v = countingRouter(inner, m);
    const ro = canaryRollout('web');
    expect(await v.verifyWeight(ro, 20, [])).toEqual({ verified: RpcVerified.Verified });
    expect(await v.verifyWeight(ro, 20, [])).toEqual({ verified: RpcVerified.NotVerified });
    await v.verifyWeight(ro, 20, []);
    await expect(v.verifyWeight(ro, 20, [])).rejects.toThrow('AccessDenied');
    const text = await scrape(m);
    expect(sample(text, 'alb_plugin_weight_verifications_total{verdict="verified"}')).toBe(2);
    expect(sample(text, 'alb_plugin_weight_verifications_total{verdict="not_verified"}')).toBe(1);
    expect(sample(text, 'alb_plugin_weight_verifications_total{verdict="error"}')).toBe(1);
  });
});
