// CloudWatch calls per ALB-analysis measurement: the metric provider (src/analysis/provider.ts, one
// GetMetricData for every load balancer, target group and metric of the Rollout) against the naive way a
// hand-written AnalysisTemplate queries with Argo's CloudWatch provider, one GetMetricData per metric per
// target group (and per load balancer for HTTPCode_ELB_5XX_Count). Both against the same moto_server (5.2.6)
// through the same counting proxy, over the same published ALB metrics (test/analysis/alb-metrics.ts), with
// 1, 2 and 4 load balancers (a Rollout on several Ingresses). Ours runs the whole provider: the Rollout's
// load balancers come from Ingress mode's albTargets (the weight verifier, its ELBv2 calls counted apart);
// the naive side is handed the dimensions, as a template's args would be. Both must find the same totals.
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { createCloudWatch } from '../src/analysis/cloudwatch.js';
import { ANALYSIS_DEFAULTS } from '../src/analysis/config.js';
import { createAlbMetricProvider } from '../src/analysis/provider.js';
import { loadBalancerDimension, targetGroupDimension, type AnalysisTarget } from '../src/analysis/query.js';
import { queryWindow } from '../src/analysis/window.js';
import { createElbv2 } from '../src/aws/elbv2.js';
import type { Rollout } from '../src/core/rollout.js';
import { ingressAlbTargets } from '../src/modes/ingress/alb-targets.js';
import { createWeightVerifier } from '../src/modes/ingress/verify/verifier.js';
import type { IngressStatusView } from '../src/modes/ingress/verify/weight-check.js';
import type { AnalysisRun, JsonValue, Metric } from '../src/plugin/metric-provider.js';
import type { Mode } from '../src/plugin/mode.js';
import { ModeTable } from '../src/plugin/mode-table.js';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { cloudwatchClient, loadBalancerDatums, putDatums, targetGroupDatums, type MinuteTraffic } from '../test/analysis/alb-metrics.js';
import { startElbv2Proxy } from '../test/support/elbv2-proxy.js';
import { createNetwork, seedIngress } from '../test/support/lbc-seed.js';
import { elbv2Client, MOTO_CREDENTIALS, MOTO_REGION, startMoto } from '../test/support/moto.js';
import { percentile, type BenchContext } from './harness.js';

const ROUTER = 'argoproj-labs/alb';
const ANALYSIS = 'argoproj-labs/alb-analysis';
const NAMESPACE = 'AWS/ApplicationELB';
/** The checks of the benchmark's metric: the error and latency checks and the load balancers' own 5xx. */
const BLOCK = { maxErrorRateIncrease: 0.01, maxLatencyIncrease: 0.2, maxElb5xxCount: 50 } as const;

export interface AnalysisRow {
  loadBalancers: number;
  measurements: number;
  /** Per measurement. */
  oursCloudWatchCalls: number;
  naiveCloudWatchCalls: number;
  /** naive / ours. */
  callRatio: number;
  /** Metrics (queries) requested per measurement: what CloudWatch bills, the same on both sides. */
  oursMetricsRequested: number;
  naiveMetricsRequested: number;
  oursP50Ms: number;
  naiveP50Ms: number;
  /** Ours: ELBv2 calls of Ingress mode's albTargets on the first measurement, within 30 s of a discovery, and minutes later. */
  oursElbv2Cold: number;
  oursElbv2Warm: number;
  oursElbv2AfterTtl: number;
  /** The verdict ours reached, and whether both sides summed the same requests and errors per role. */
  phase: string;
  sameTotals: boolean;
}

export interface AnalysisResult {
  rows: AnalysisRow[];
  checks: string[];
  windowMinutes: number;
}

function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

interface Totals {
  canaryRequests: number;
  canaryErrors: number;
  stableRequests: number;
  stableErrors: number;
  elb5xx: number;
}

export async function benchAnalysis(ctx: BenchContext): Promise<AnalysisResult> {
  const sizes = ctx.quick ? [1, 2] : [1, 2, 4];
  const measurements = ctx.quick ? 3 : 20;
  const moto = await startMoto();
  const proxy = await startElbv2Proxy(moto.endpoint);
  try {
    const aws = elbv2Client(moto.endpoint);
    const seeder = cloudwatchClient(moto.endpoint);
    const net = await createNetwork(moto.endpoint);
    // One "now" for the whole section: every measurement reads the same window.
    const now = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
    const window = queryWindow(now, ANALYSIS_DEFAULTS.lookbackSeconds, ANALYSIS_DEFAULTS.settleDelaySeconds);
    const minutes = (requests: number, errors: number, latency: number): MinuteTraffic[] =>
      Array.from({ length: window.minutes }, (_, i) => ({ at: new Date(window.start.getTime() + i * 60_000), requests, errors: i % 2 === 0 ? errors : 0, latency }));

    const rows: AnalysisRow[] = [];
    for (const size of sizes) {
      const namespace = `bench-analysis-${size}`;
      const ingresses = Array.from({ length: size }, (_, i) => `shop-${i}`);
      const hostnames = new Map<string, string>();
      const targets: AnalysisTarget[] = [];
      for (const ingress of ingresses) {
        const s = await seedIngress(aws, net, {
          namespace, ingress, servicePort: 80, services: ['canary-svc', 'stable-svc'], weights: { 'canary-svc': 20, 'stable-svc': 80 },
        });
        hostnames.set(ingress, s.lb.hostname);
        const t = {
          loadBalancer: loadBalancerDimension(s.lb.arn),
          canaryTargetGroup: targetGroupDimension(s.tgs['canary-svc']!.arn),
          stableTargetGroup: targetGroupDimension(s.tgs['stable-svc']!.arn),
        };
        targets.push(t);
        const canary = minutes(100, 1, 0.052);
        const stable = minutes(400, 2, 0.05);
        await putDatums(seeder, [
          ...targetGroupDatums(t.loadBalancer, t.canaryTargetGroup, canary),
          ...targetGroupDatums(t.loadBalancer, t.stableTargetGroup, stable),
          ...loadBalancerDatums(t.loadBalancer, canary.map((m, i) => ({ at: m.at, requests: m.requests + stable[i]!.requests, elb5xx: i === 1 ? 3 : 0 }))),
        ]);
      }

      // ---- ours: the provider, Ingress mode's albTargets on the weight verifier --------------------------------
      const rollout = {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'shop', namespace, uid: `uid-${namespace}` },
        spec: {
          strategy: {
            canary: {
              canaryService: 'canary-svc',
              stableService: 'stable-svc',
              steps: [{ setWeight: 20 }, { pause: {} }],
              trafficRouting: { plugins: { [ROUTER]: { ingresses, servicePort: 80 } } },
            },
          },
        },
        status: {
          stableRS: 'stable-hash',
          currentPodHash: 'canary-hash',
          currentStepIndex: 1,
          canary: { weights: { canary: { weight: 20, serviceName: 'canary-svc' }, stable: { weight: 80, serviceName: 'stable-svc' } } },
        },
      } as Rollout;
      let skew = 0;
      const verifier = createWeightVerifier({
        enabled: true,
        elbv2: createElbv2({
          rateLimit: 1000,
          rateBurst: 1000,
          client: new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
        }),
        getIngress: async (_ns: string, name: string): Promise<IngressStatusView> => ({
          status: { loadBalancer: { ingress: [{ hostname: hostnames.get(name)! }] } },
        }),
        resourceTagKey: 'ingress.k8s.aws/resource',
        now: () => Date.now() + skew,
      });
      const mode: Mode = {
        name: 'ingress',
        claims: () => true,
        readable: () => true,
        router: {} as Mode['router'],
        cleanup: {} as Mode['cleanup'],
        report: () => Promise.reject(new Error('not used')),
        albTargets: (r) => ingressAlbTargets(ROUTER, verifier, r),
      };
      let oursQueries = 0;
      const cloudwatch = createCloudWatch({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, rateLimit: 1000, rateBurst: 1000 });
      const provider = createAlbMetricProvider({
        metricPluginName: ANALYSIS,
        modes: new ModeTable(ROUTER, [mode]),
        getRollout: async () => rollout,
        cloudwatch: {
          getMetricData: (input, o) => {
            oursQueries += input.MetricDataQueries?.length ?? 0;
            return cloudwatch.getMetricData(input, o);
          },
        },
        verificationEnabled: true,
        now: () => new Date(now),
      });
      const run: AnalysisRun = {
        metadata: { name: 'shop-1', namespace, ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'shop', uid: `uid-${namespace}`, controller: true }] },
        spec: { metrics: [] },
      };
      const metric: Metric = { name: 'alb', interval: '5m', provider: { plugin: { [ANALYSIS]: BLOCK as unknown as JsonValue } } };
      const elbv2Calls = (): number => proxy.total() - proxy.count('GetMetricData');

      proxy.resetCounts();
      const cold = await provider.run(run, metric);
      const oursElbv2Cold = elbv2Calls();
      const oursTimes: number[] = [];
      let oursCloudWatch = 0;
      let oursElbv2Warm = 0;
      oursQueries = 0;
      let last = cold;
      for (let i = 0; i < measurements; i++) {
        proxy.resetCounts();
        const t0 = process.hrtime.bigint();
        last = await provider.run(run, metric);
        oursTimes.push(msSince(t0));
        oursCloudWatch += proxy.count('GetMetricData');
        oursElbv2Warm += elbv2Calls();
      }
      const oursMetricsRequested = oursQueries / measurements;
      skew += 5 * 60_000;
      proxy.resetCounts();
      await provider.run(run, metric);
      const oursElbv2AfterTtl = elbv2Calls();
      if (last.phase !== 'Successful') throw new Error(`bench: our measurement is ${last.phase}: ${last.message}`);
      const value = JSON.parse(last.value!) as { canary: { requests: number; errors: number }; stable: { requests: number; errors: number }; elb5xx?: number };
      const ours: Totals = {
        canaryRequests: value.canary.requests,
        canaryErrors: value.canary.errors,
        stableRequests: value.stable.requests,
        stableErrors: value.stable.errors,
        elb5xx: value.elb5xx ?? 0,
      };

      // ---- naive: one GetMetricData per metric per target group (and per load balancer for the ELB 5xx) --------
      const client = new CloudWatchClient({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
      const one = async (query: MetricDataQuery): Promise<number[]> => {
        const out = await client.send(new GetMetricDataCommand({ StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending', MetricDataQueries: [query] }));
        return out.MetricDataResults?.[0]?.Values ?? [];
      };
      const stat = (metricName: string, dims: Record<string, string>, s: string): MetricDataQuery => ({
        Id: 'q',
        MetricStat: { Metric: { Namespace: NAMESPACE, MetricName: metricName, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: 60, Stat: s },
        ReturnData: true,
      });
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const naiveTimes: number[] = [];
      let naiveCloudWatch = 0;
      let naiveQueries = 0;
      let naive: Totals = { canaryRequests: 0, canaryErrors: 0, stableRequests: 0, stableErrors: 0, elb5xx: 0 };
      for (let i = 0; i < measurements; i++) {
        proxy.resetCounts();
        const totals: Totals = { canaryRequests: 0, canaryErrors: 0, stableRequests: 0, stableErrors: 0, elb5xx: 0 };
        const t0 = process.hrtime.bigint();
        for (const t of targets) {
          for (const [role, tg] of [['canary', t.canaryTargetGroup], ['stable', t.stableTargetGroup]] as const) {
            const dims = { LoadBalancer: t.loadBalancer, TargetGroup: tg };
            const requests = sum(await one(stat('RequestCount', dims, 'Sum')));
            const errors = sum(await one(stat('HTTPCode_Target_5XX_Count', dims, 'Sum')));
            await one(stat('TargetResponseTime', dims, 'Average'));
            naiveQueries += 3;
            if (role === 'canary') {
              totals.canaryRequests += requests;
              totals.canaryErrors += errors;
            } else {
              totals.stableRequests += requests;
              totals.stableErrors += errors;
            }
          }
          totals.elb5xx += sum(await one(stat('HTTPCode_ELB_5XX_Count', { LoadBalancer: t.loadBalancer }, 'Sum')));
          naiveQueries += 1;
        }
        naiveTimes.push(msSince(t0));
        naiveCloudWatch += proxy.count('GetMetricData');
        naive = totals;
      }

      const p50 = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);
      const oursCalls = oursCloudWatch / measurements;
      const naiveCalls = naiveCloudWatch / measurements;
      rows.push({
        loadBalancers: size,
        measurements,
        oursCloudWatchCalls: oursCalls,
        naiveCloudWatchCalls: naiveCalls,
        callRatio: naiveCalls / oursCalls,
        oursMetricsRequested,
        naiveMetricsRequested: naiveQueries / measurements,
        oursP50Ms: p50(oursTimes),
        naiveP50Ms: p50(naiveTimes),
        oursElbv2Cold,
        oursElbv2Warm: oursElbv2Warm / measurements,
        oursElbv2AfterTtl,
        phase: last.phase,
        sameTotals: JSON.stringify(ours) === JSON.stringify(naive),
      });
    }
    return { rows, checks: Object.keys(BLOCK), windowMinutes: window.minutes };
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}
