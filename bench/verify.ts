// ELBv2 calls and time per weight verification: our verifier against Argo's own verification code
// (Go, utils/aws, driven by bench/go/argoverify), both pointed at the same moto_server through the same
// call-counting proxy, with 10, 300 and 1000 load balancers in the region seeded as the LBC would.
// Gateway mode side by side: at each size an ALB seeded as the LBC builds it for a Gateway + HTTPRoute
// (test/modes/gateway/moto-fixtures.ts) is checked by the Gateway verifier through the same proxy, cold then warm.
// Also: 200 Rollouts at setWeight steps re-verified every 10 s for a simulated minute.
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2 } from '../src/aws/elbv2.js';
import { desiredWeights } from '../src/core/weights.js';
import { parseGatewayConfig } from '../src/modes/gateway/config.js';
import { gatewayWeightStep } from '../src/modes/gateway/router.js';
import { createGatewayVerifier } from '../src/modes/gateway/verify/verifier.js';
import { RpcVerified } from '../src/plugin/router.js';
import type { Rollout } from '../src/core/rollout.js';
import { ingressesTarget, type WeightRequest } from '../src/modes/ingress/view.js';
import { createWeightVerifier } from '../src/modes/ingress/verify/verifier.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../test/support/elbv2-proxy.js';
import {
  createLoadBalancer,
  createNetwork,
  RESOURCE_TAG,
  seedIngress,
  setRuleWeights,
  type Network,
  type SeededIngress,
} from '../test/support/lbc-seed.js';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto } from '../test/support/moto.js';
import { NS as GATEWAY_NS, seedGatewayAlb, World } from '../test/modes/gateway/moto-fixtures.js';
import { percentile, runJson, type BenchContext } from './harness.js';

const NS = 'default';
const PORT = 80;

export interface VerifyRow {
  loadBalancers: number;
  oursColdCalls: number;
  oursWarmCalls: number;
  oursColdMs: number;
  oursWarmP50Ms: number;
  argoCalls: number;
  argoP50Ms: number;
  /** Argo calls per verification / ours warm. */
  warmCallRatio: number;
  /** Gateway mode, same region and proxy: the Gateway verifier's check on a Gateway + HTTPRoute's ALB. */
  gatewayColdCalls: number;
  gatewayWarmCalls: number;
  gatewayColdMs: number;
  gatewayWarmP50Ms: number;
}

export interface GatewayMeasure {
  coldCalls: number;
  warmCalls: number;
  coldMs: number;
  warmP50Ms: number;
}

export interface ManyRolloutsResult {
  rollouts: number;
  simulatedSeconds: number;
  oursCalls: number;
  oursCallsPerSecond: number;
  /** Our calls in each 10 s round: cold discovery, the check that sees the new weights, then none. */
  oursCallsPerRound: number[];
  argoCallsPerVerification: number;
  argoCalls: number;
  argoCallsPerSecond: number;
  accountDescribeRefillPerSecond: number;
}

function rolloutFor(name: string, ingress: string, uid: string): Rollout {
  return {
    metadata: { name, namespace: NS, uid },
    spec: {
      strategy: {
        canary: {
          stableService: `${name}-stable`,
          canaryService: `${name}-canary`,
          steps: [{ setWeight: 10 }, { pause: {} }],
          trafficRouting: { plugins: { 'argoproj-labs/alb': { ingress, servicePort: PORT } } },
        },
      },
    },
    status: { stableRS: 'stable-hash', currentPodHash: 'canary-hash', currentStepIndex: 0 },
  };
}

function requestFor(name: string, ingress: string, desiredWeight: number, uid = `uid-${name}`): WeightRequest {
  const config = { ingresses: [{ name: ingress, servicePort: PORT }], singleIngress: true, servicePort: PORT, annotationPrefix: 'alb.ingress.kubernetes.io' };
  return {
    rollout: rolloutFor(name, ingress, uid),
    target: JSON.stringify(['ingress', ingressesTarget(config)]),
    config,
    services: { stable: `${name}-stable`, canary: `${name}-canary`, action: `${name}-stable`, pingPong: false },
    desiredWeight,
    additionalDestinations: [],
    maxWeight: 100,
  };
}

async function seedFillers(elbv2: ElasticLoadBalancingV2Client, net: Network, count: number, prefix: string): Promise<void> {
  // Other teams' load balancers in the same region: Argo's scan has to page past them.
  const batch = 10;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, (_, j) =>
        createLoadBalancer(elbv2, net, { name: `${prefix}-${String(i + j).padStart(4, '0')}` }),
      ),
    );
  }
}

function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function argoVerify(
  ctx: BenchContext,
  proxy: Elbv2Proxy,
  hostnames: string[],
  canaryResource: string,
  verifications: number,
): Promise<{ calls: number; p50Ms: number }> {
  proxy.resetCounts();
  const out = (await runJson(
    ctx.bin('argoverify'),
    ['-hostnames', hostnames.join(','), '-canary-resource', canaryResource, '-desired', '10', '-verifications', String(verifications)],
    {
      env: {
        AWS_ENDPOINT_URL: proxy.endpoint,
        AWS_REGION: MOTO_REGION,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  )) as { verified: number; p50Ms: number };
  if (out.verified !== verifications) throw new Error(`Argo's code verified ${out.verified}/${verifications}`);
  return { calls: proxy.total() / verifications, p50Ms: out.p50Ms };
}

function gatewayRollout(weight: number): Rollout {
  return {
    metadata: { name: 'shop', namespace: GATEWAY_NS, uid: 'uid-shop' },
    spec: {
      strategy: {
        canary: {
          stableService: 'shop-stable',
          canaryService: 'shop-canary',
          trafficRouting: { plugins: { 'argoproj-labs/alb': { httpRoute: 'shop', ruleName: 'main' } } },
          steps: [{ setWeight: weight }, { pause: {} }],
        },
      },
    },
    status: { stableRS: 'stable-hash', currentPodHash: 'canary-hash', currentStepIndex: 0 },
  };
}

/**
 * Gateway mode: seeds the ALB the LBC builds for Gateway `shop` + HTTPRoute `shop` (main rule stable 80 / canary
 * 20; Programmed carries the ALB's ARN, as the LBC writes it), then the Gateway verifier's check, cold then warm,
 * counted at the proxy. The check is what each VerifyWeight runs until its gate remembers a Verified verdict
 * (after which VerifyWeight makes no call at all; asserted below), as with the Ingress rows' `report`.
 */
async function gatewayVerify(
  seedClient: ElasticLoadBalancingV2Client,
  endpoint: string,
  net: Network,
  proxy: Elbv2Proxy,
  suffix: string,
  warmRuns: number,
): Promise<GatewayMeasure> {
  const world = new World(await seedGatewayAlb(seedClient, endpoint, { net, suffix }));
  const elbv2 = createElbv2({ region: MOTO_REGION, endpoint: proxy.endpoint, rateLimit: 10_000, rateBurst: 10_000,
    client: new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }) });
  const verifier = createGatewayVerifier({ enabled: true, elbv2, routes: world, gateways: world });
  const rollout = gatewayRollout(20);
  const config = parseGatewayConfig(rollout, 'argoproj-labs/alb');
  const desired = desiredWeights({ desiredWeight: 20, additionalDestinations: [], maxWeight: 100, services: config.services });
  proxy.resetCounts();
  let t = process.hrtime.bigint();
  const cold = await verifier.report(config, desired);
  const coldMs = msSince(t);
  const coldCalls = proxy.total();
  if (!cold.verified) throw new Error(`Gateway verifier did not verify: ${cold.error ?? cold.reasons.join('; ')}`);
  const times: number[] = [];
  proxy.resetCounts();
  for (let i = 0; i < warmRuns; i++) {
    t = process.hrtime.bigint();
    const r = await verifier.report(config, desired);
    times.push(msSince(t));
    if (!r.verified) throw new Error('warm Gateway verification failed');
  }
  const warmCalls = proxy.total() / warmRuns;
  times.sort((a, b) => a - b);
  // Through VerifyWeight: the first call runs the (now warm) check, the next is remembered with no call.
  const step = gatewayWeightStep(rollout, config, 20, []);
  if ((await verifier.verifyWeight(step, config, desired)).verified !== RpcVerified.Verified) throw new Error('Gateway VerifyWeight did not verify');
  proxy.resetCounts();
  if ((await verifier.verifyWeight(step, config, desired)).verified !== RpcVerified.Verified || proxy.total() !== 0) {
    throw new Error(`Gateway VerifyWeight not remembered (${proxy.total()} calls)`);
  }
  return { coldCalls, warmCalls, coldMs, warmP50Ms: percentile(times, 0.5) };
}

export async function benchVerify(ctx: BenchContext): Promise<{ rows: VerifyRow[]; many: ManyRolloutsResult }> {
  const moto = await startMoto();
  const proxy = await startElbv2Proxy(moto.endpoint);
  try {
    const seedClient = new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS });
    const net = await createNetwork(moto.endpoint);
    const rows: VerifyRow[] = [];
    const sizes = ctx.quick ? [10] : [10, 300, 1000];
    let fillers = 0;
    for (const size of sizes) {
      // The measured Ingress's load balancer is the newest in the region, so a scan finds it last.
      await seedFillers(seedClient, net, size - 1 - fillers, `other-${size}`);
      fillers = size - 1;
      const ingress = `app-${size}`;
      const name = `ro-${size}`;
      const seeded: SeededIngress = await seedIngress(seedClient, net, {
        namespace: NS,
        ingress,
        servicePort: PORT,
        services: [`${name}-canary`, `${name}-stable`],
        weights: { [`${name}-canary`]: 10, [`${name}-stable`]: 90 },
        listeners: ['http-redirect', 'https'],
      });
      fillers += 1;
      const elbv2 = createElbv2({ region: MOTO_REGION, endpoint: proxy.endpoint, rateLimit: 10_000, rateBurst: 10_000,
        client: new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }) });
      const verifier = createWeightVerifier({
        enabled: true,
        elbv2,
        resourceTagKey: RESOURCE_TAG,
        getIngress: async () => ({ status: { loadBalancer: { ingress: [{ hostname: seeded.lb.hostname }] } } }),
      });
      const req = requestFor(name, ingress, 10);
      proxy.resetCounts();
      let t = process.hrtime.bigint();
      const cold = await verifier.report(req);
      const oursColdMs = msSince(t);
      const oursColdCalls = proxy.total();
      if (!cold.verified) throw new Error(`our verifier did not verify: ${cold.reasons.join('; ')}`);
      const warmRuns = ctx.quick ? 5 : 20;
      const warmTimes: number[] = [];
      proxy.resetCounts();
      for (let i = 0; i < warmRuns; i++) {
        t = process.hrtime.bigint();
        const r = await verifier.report(req);
        warmTimes.push(msSince(t));
        if (!r.verified) throw new Error('warm verification failed');
      }
      const oursWarmCalls = proxy.total() / warmRuns;
      warmTimes.sort((a, b) => a - b);
      const argo = await argoVerify(ctx, proxy, [seeded.lb.hostname], `${NS}/${ingress}-${name}-canary:${PORT}`, ctx.quick ? 2 : 5);
      // The Gateway's ALB joins the region now, the newest load balancer in it, as the Ingress's was.
      const gw = await gatewayVerify(seedClient, moto.endpoint, net, proxy, `-${size}`, warmRuns);
      fillers += 1;
      rows.push({
        loadBalancers: size,
        oursColdCalls,
        oursWarmCalls,
        oursColdMs,
        oursWarmP50Ms: percentile(warmTimes, 0.5),
        argoCalls: argo.calls,
        argoP50Ms: argo.p50Ms,
        warmCallRatio: argo.calls / Math.max(oursWarmCalls, 1e-9),
        gatewayColdCalls: gw.coldCalls,
        gatewayWarmCalls: gw.warmCalls,
        gatewayColdMs: gw.coldMs,
        gatewayWarmP50Ms: gw.warmP50Ms,
      });
    }
    const many = await benchManyRollouts(ctx, seedClient, net, proxy);
    return { rows, many };
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

/**
 * 200 Rollouts at setWeight steps, each verified every 10 s for one simulated minute (6 rounds). The load
 * balancer only carries the new weight from the second round on, as when the LBC lags behind an annotation
 * change. Time is simulated (rounds run back to back); calls are real and counted at the proxy. Argo's
 * algorithm makes the same calls on every verification, so its total is its measured per-verification
 * count (averaged over a sample of the 200) times the number of verifications.
 */
async function benchManyRollouts(
  ctx: BenchContext,
  seedClient: ElasticLoadBalancingV2Client,
  net: Network,
  proxy: Elbv2Proxy,
): Promise<ManyRolloutsResult> {
  const rollouts = ctx.quick ? 20 : 200;
  const rounds = 6;
  const seeded: Array<{ name: string; ingress: string; host: string; rule: string; canaryArn: string; stableArn: string }> = [];
  for (let i = 0; i < rollouts; i += 10) {
    const part = await Promise.all(
      Array.from({ length: Math.min(10, rollouts - i) }, async (_, j) => {
        const name = `many-${i + j}`;
        const ingress = `many-ing-${i + j}`;
        const s = await seedIngress(seedClient, net, {
          namespace: NS,
          ingress,
          servicePort: PORT,
          services: [`${name}-canary`, `${name}-stable`],
          weights: { [`${name}-canary`]: 0, [`${name}-stable`]: 100 },
          listeners: ['https'],
        });
        return { name, ingress, host: s.lb.hostname, rule: s.rules[0]!, canaryArn: s.tgs[`${name}-canary`]!.arn, stableArn: s.tgs[`${name}-stable`]!.arn };
      }),
    );
    seeded.push(...part);
  }
  const hostOf = new Map(seeded.map((s) => [s.ingress, s.host]));
  const elbv2 = createElbv2({ region: MOTO_REGION, endpoint: proxy.endpoint, rateLimit: 10_000, rateBurst: 10_000,
    client: new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }) });
  const verifier = createWeightVerifier({
    enabled: true,
    elbv2,
    resourceTagKey: RESOURCE_TAG,
    getIngress: async (_ns, name) => ({ status: { loadBalancer: { ingress: [{ hostname: hostOf.get(name)! }] } } }),
  });
  proxy.resetCounts();
  let oursCalls = 0;
  const oursCallsPerRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round === 1) {
      // The LBC catches up: every rule now carries canary 10 / stable 90.
      const before = proxy.total();
      for (const s of seeded) {
        await setRuleWeights(seedClient, s.rule, [{ arn: s.canaryArn, weight: 10 }, { arn: s.stableArn, weight: 90 }]);
      }
      if (proxy.total() !== before) throw new Error('seeding went through the counting proxy');
    }
    const before = proxy.total();
    const verdicts = await Promise.all(seeded.map((s) => verifier.verifyWeight(requestFor(s.name, s.ingress, 10))));
    oursCalls += proxy.total() - before;
    oursCallsPerRound.push(proxy.total() - before);
    const verified = verdicts.filter((v) => v.verified === RpcVerified.Verified).length;
    if (round >= 1 && verified !== rollouts) throw new Error(`round ${round}: ${verified}/${rollouts} verified`);
  }
  // Argo's calls per verification depend on where each load balancer sits in the region's listing;
  // measure a sample spread over the 200 and average.
  const sample = [0, 0.25, 0.5, 0.75, 1].map((f) => seeded[Math.min(seeded.length - 1, Math.floor(f * (seeded.length - 1)))]!);
  let argoSampleCalls = 0;
  for (const s of sample) {
    argoSampleCalls += (await argoVerify(ctx, proxy, [s.host], `${NS}/${s.ingress}-${s.name}-canary:${PORT}`, 1)).calls;
  }
  const argoCallsPerVerification = argoSampleCalls / sample.length;
  const simulatedSeconds = rounds * 10;
  const argoCalls = argoCallsPerVerification * rollouts * rounds;
  return {
    rollouts,
    simulatedSeconds,
    oursCalls,
    oursCallsPerSecond: oursCalls / simulatedSeconds,
    oursCallsPerRound,
    argoCallsPerVerification,
    argoCalls,
    argoCallsPerSecond: argoCalls / simulatedSeconds,
    accountDescribeRefillPerSecond: 10,
  };
}
