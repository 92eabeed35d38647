// A cold first round at scale (issue #20): 200 Rollouts on 10 shared ALBs (20 Ingresses of an IngressGroup on each)
// and 200 Rollouts on 200 ALBs of their own, every Rollout verified at once, as right after a sidecar restart or a
// fleet-wide release. Per mode (Ingress, Gateway, listener-rule), on the same seeded ALBs: the ELBv2 calls of the
// round, counted at the proxy, and the seconds until the last Rollout is verified at the default client-side rate
// limit (2/s, burst 5). The calls are real (moto behind the counting proxy); the time is the token bucket's on a
// simulated clock (sim-clock.ts), so a round of minutes runs in seconds. Argo's algorithm side by side: its calls
// per verification measured with its own Go code on a sample of the same Rollouts, times 200 (it shares nothing
// between Rollouts), and the seconds the same 2/s budget needs for them at the least ((calls − burst) / rate: as if
// every call could be queued at once, which its one-after-another calls cannot).
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Elbv2Discovery } from '../src/aws/discovery.js';
import { createElbv2, type Elbv2 } from '../src/aws/elbv2.js';
import type { Rollout } from '../src/core/rollout.js';
import { desiredWeights } from '../src/core/weights.js';
import type { HTTPRouteClient } from '../src/modes/gateway/client.js';
import { parseGatewayConfig } from '../src/modes/gateway/config.js';
import type { GatewayBinding, GatewayObject, GatewayReader } from '../src/modes/gateway/k8s.js';
import type { HTTPRoute } from '../src/modes/gateway/route/model.js';
import { gatewayWeightStep } from '../src/modes/gateway/router.js';
import { createGatewayVerifier } from '../src/modes/gateway/verify/verifier.js';
import { createWeightVerifier } from '../src/modes/ingress/verify/verifier.js';
import { withSharedDiscovery } from '../src/modes/listener-rule/locate.js';
import { createListenerRuleRouter } from '../src/modes/listener-rule/router.js';
import { RpcVerified } from '../src/plugin/router.js';
import { startElbv2Proxy, type Elbv2Proxy } from '../test/support/elbv2-proxy.js';
import {
  createForwardRule, createLbcLoadBalancer, createLbcTargetGroup, createListener, createNetwork,
  type Network, type SeededLoadBalancer, type SeededTargetGroup,
} from '../test/support/lbc-seed.js';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto } from '../test/support/moto.js';
import type { BenchContext } from './harness.js';
import { SimulatedClock } from './sim-clock.js';
import { argoVerify, requestFor } from './verify.js';

const NS = 'default';
const PORT = 80;
const HTTPS = 443;
const PLUGIN = 'argoproj-labs/alb';
/** The sidecar's defaults (--aws-rate-limit, --aws-rate-burst). */
const RATE_LIMIT = 2;
const RATE_BURST = 5;
/** Deadlines stay out of the simulated round: it measures when the last answer could come, not a timeout. */
const NO_DEADLINE_MS = 3_600_000;

export type ScaleMode = 'ingress' | 'gateway' | 'listener-rule';

export interface ScaleModeRow {
  mode: ScaleMode;
  /** ELBv2 calls of the cold round, every Rollout verified once. */
  calls: number;
  byOperation: Record<string, number>;
  callsPerAlb: number;
  callsPerRollout: number;
  /** Simulated seconds from the start of the round until the last Rollout is verified. */
  seconds: number;
  verified: number;
}

export interface ScaleScenario {
  name: string;
  rollouts: number;
  albs: number;
  listenersPerAlb: number;
  targetGroupsPerAlb: number;
  rateLimit: number;
  rateBurst: number;
  modes: ScaleModeRow[];
  argo: {
    /** Rollouts measured with Argo's code; its calls do not depend on the other Rollouts. */
    sample: number;
    callsPerVerification: number;
    calls: number;
    /** The least time the same token bucket needs for `calls`: (calls − burst) / rate. */
    seconds: number;
  };
}

export interface ScaleResult {
  scenarios: ScaleScenario[];
}

interface SeededRollout {
  name: string;
  ingress: string;
  alb: number;
  lb: SeededLoadBalancer;
  host: string;
  canary: SeededTargetGroup;
  stable: SeededTargetGroup;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  // moto is one process on a shared machine: a few requests at a time.
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

/**
 * `rollouts` Rollouts spread over `albs` ALBs (`rollouts / albs` each), as the LBC builds them: an HTTPS listener
 * per ALB, per Rollout a canary and a stable target group and a rule for its host forwarding canary 10 / stable 90.
 */
async function seedScenario(aws: ElasticLoadBalancingV2Client, net: Network, prefix: string, rollouts: number, albs: number): Promise<SeededRollout[]> {
  const lbs: Array<{ lb: SeededLoadBalancer; listener: string }> = [];
  await inBatches([...Array(albs).keys()], 10, async (g) => {
    const lb = await createLbcLoadBalancer(aws, net, NS, `${prefix}-g${g}`);
    lbs[g] = { lb, listener: await createListener(aws, lb.arn, 'https', net.certificateArn) };
  });
  const out: SeededRollout[] = [];
  await inBatches([...Array(rollouts).keys()], 10, async (i) => {
    const alb = i % albs;
    const name = `${prefix}${i}`;
    const ingress = `${prefix}-ing-${i}`;
    const tg = (svc: string) => createLbcTargetGroup(aws, net, { namespace: NS, ingress, service: `${name}-${svc}`, port: PORT });
    const canary = await tg('canary');
    const stable = await tg('stable');
    const host = `${name}.example.com`;
    const { lb, listener } = lbs[alb]!;
    await createForwardRule(aws, listener, { priority: Math.floor(i / albs) + 1, host, tuples: [{ arn: canary.arn, weight: 10 }, { arn: stable.arn, weight: 90 }] });
    out[i] = { name, ingress, alb, lb, host, canary, stable };
  });
  return out;
}

/** The ALBs as the Gateway side sees them: a Gateway per ALB (Programmed with its ARN), an HTTPRoute per Rollout. */
class ScaleWorld implements GatewayReader, HTTPRouteClient {
  private readonly gateways = new Map<string, GatewayObject>();
  private readonly routes = new Map<string, HTTPRoute>();
  private readonly bindings = new Map<string, GatewayBinding[]>();

  constructor(seeded: SeededRollout[]) {
    for (const r of seeded) {
      const gw = `gw-${r.alb}`;
      if (!this.gateways.has(gw)) {
        this.gateways.set(gw, {
          metadata: { name: gw, namespace: NS },
          spec: { gatewayClassName: 'alb', listeners: [{ name: 'https', port: HTTPS, protocol: 'HTTPS' }] },
          status: { addresses: [{ type: 'Hostname', value: r.lb.hostname }], conditions: [{ type: 'Programmed', status: 'True', message: r.lb.arn }] },
        });
        this.bindings.set(gw, []);
      }
      this.routes.set(r.name, {
        metadata: { name: r.name, namespace: NS, resourceVersion: '1' },
        spec: {
          parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gw, sectionName: 'https' }],
          hostnames: [r.host],
          rules: [{ name: 'main', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: `${r.name}-stable`, port: PORT, weight: 90 }, { name: `${r.name}-canary`, port: PORT, weight: 10 }] }],
        },
      });
      this.bindings.get(gw)!.push(
        { name: `${r.name}-stable`, serviceName: `${r.name}-stable`, servicePort: PORT, targetGroupArn: r.stable.arn },
        { name: `${r.name}-canary`, serviceName: `${r.name}-canary`, servicePort: PORT, targetGroupArn: r.canary.arn },
      );
    }
  }

  async get(_ns: string, name: string): Promise<HTTPRoute> {
    return structuredClone(this.routes.get(name)!);
  }
  async patch(): Promise<HTTPRoute> {
    throw new Error('the scale bench writes nothing');
  }
  async getGateway(_ns: string, name: string) {
    return structuredClone(this.gateways.get(name));
  }
  async getGatewayClass(name: string) {
    return name === 'alb' ? { spec: { controllerName: 'gateway.k8s.aws/alb' } } : undefined;
  }
  async listGatewayBindings(_ns: string, _gwNs: string, gw: string) {
    return this.bindings.get(gw) ?? [];
  }
}

function gatewayRollout(r: SeededRollout): Rollout {
  return {
    metadata: { name: r.name, namespace: NS, uid: `gw-${r.name}` },
    spec: {
      strategy: {
        canary: {
          stableService: `${r.name}-stable`,
          canaryService: `${r.name}-canary`,
          trafficRouting: { plugins: { [PLUGIN]: { httpRoute: r.name, ruleName: 'main' } } },
          steps: [{ setWeight: 10 }, { pause: {} }],
        },
      },
    },
    status: { stableRS: 'stable-hash', currentPodHash: 'canary-hash', currentStepIndex: 0 },
  };
}

function listenerRuleRollout(r: SeededRollout): Rollout {
  return {
    metadata: { name: r.name, namespace: NS, uid: `lr-${r.name}` },
    spec: {
      strategy: {
        canary: {
          stableService: `${r.name}-stable`,
          canaryService: `${r.name}-canary`,
          steps: [{ setWeight: 10 }, { pause: {} }],
          trafficRouting: {
            plugins: {
              [PLUGIN]: {
                listenerRule: { loadBalancerName: r.lb.name, listenerPort: HTTPS, conditions: { host: r.host, path: '/*' } },
                stableTargetGroup: { arn: r.stable.arn },
                canaryTargetGroup: { arn: r.canary.arn },
              },
            },
          },
        },
      },
    },
    status: { stableRS: 'stable-hash', currentPodHash: 'canary-hash', currentStepIndex: 0 },
  };
}

/** One Rollout's VerifyWeight in the given mode, as the sidecar builds the mode over the shared client and discovery. */
function modeCheck(mode: ScaleMode, elbv2: Elbv2, discovery: Elbv2Discovery, seeded: SeededRollout[]): (r: SeededRollout) => Promise<boolean> {
  if (mode === 'ingress') {
    const hostOf = new Map(seeded.map((r) => [r.ingress, r.lb.hostname]));
    const verifier = createWeightVerifier({
      enabled: true,
      elbv2,
      discovery,
      resourceTagKey: 'ingress.k8s.aws/resource',
      timeoutMs: NO_DEADLINE_MS,
      now: discovery.now,
      getIngress: async (_ns, name) => ({ status: { loadBalancer: { ingress: [{ hostname: hostOf.get(name)! }] } } }),
    });
    return async (r) => (await verifier.verifyWeight(requestFor(r.name, r.ingress, 10))).verified === RpcVerified.Verified;
  }
  if (mode === 'gateway') {
    const world = new ScaleWorld(seeded);
    const verifier = createGatewayVerifier({ enabled: true, elbv2, discovery, routes: world, gateways: world, timeoutMs: NO_DEADLINE_MS });
    return async (r) => {
      const rollout = gatewayRollout(r);
      const config = parseGatewayConfig(rollout, PLUGIN);
      const desired = desiredWeights({ desiredWeight: 10, additionalDestinations: [], maxWeight: 100, services: config.services });
      return (await verifier.verifyWeight(gatewayWeightStep(rollout, config, 10, []), config, desired)).verified === RpcVerified.Verified;
    };
  }
  const router = createListenerRuleRouter({
    elbv2: withSharedDiscovery(elbv2, discovery),
    getTargetGroupBinding: async () => undefined,
    listTargetGroupBindings: async () => [],
    pluginName: PLUGIN,
  });
  return async (r) => (await router.verifyWeight(listenerRuleRollout(r), 10, [])).verified === RpcVerified.Verified;
}

async function coldRound(mode: ScaleMode, seeded: SeededRollout[], proxy: Elbv2Proxy, albs: number): Promise<ScaleModeRow> {
  const clock = new SimulatedClock();
  const client = clock.track(new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }));
  const elbv2 = createElbv2({ client, rateLimit: RATE_LIMIT, rateBurst: RATE_BURST, clock });
  const discovery = new Elbv2Discovery(elbv2, { now: clock.now });
  const check = modeCheck(mode, elbv2, discovery, seeded);
  proxy.resetCounts();
  let last = 0;
  const verdicts = await Promise.all(
    seeded.map(async (r) => {
      const ok = await check(r);
      last = Math.max(last, clock.now());
      return ok;
    }),
  );
  const verified = verdicts.filter(Boolean).length;
  if (verified !== seeded.length) throw new Error(`${mode}: ${verified}/${seeded.length} Rollouts verified in the cold round`);
  const calls = proxy.total();
  return {
    mode,
    calls,
    byOperation: proxy.counts(),
    callsPerAlb: calls / albs,
    callsPerRollout: calls / seeded.length,
    seconds: last / 1000,
    verified,
  };
}

export async function benchScale(ctx: BenchContext): Promise<ScaleResult> {
  const moto = await startMoto();
  const proxy = await startElbv2Proxy(moto.endpoint);
  try {
    const aws = new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint: moto.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
    const net = await createNetwork(moto.endpoint);
    const rollouts = ctx.quick ? 40 : 200;
    const shapes = [
      { name: `${rollouts} Rollouts on ${rollouts / 20} shared ALBs`, prefix: 'sh', albs: rollouts / 20 },
      { name: `${rollouts} Rollouts on ${rollouts} ALBs`, prefix: 'ow', albs: rollouts },
    ];
    // Both shapes are seeded first, so every measurement sees the same region (Argo's scan pages through it).
    const seededAll: SeededRollout[][] = [];
    for (const s of shapes) {
      process.stderr.write(`bench: scale: seeding ${s.name}...\n`);
      seededAll.push(await seedScenario(aws, net, s.prefix, rollouts, s.albs));
    }
    const scenarios: ScaleScenario[] = [];
    for (const [k, s] of shapes.entries()) {
      const seeded = seededAll[k]!;
      const modes: ScaleModeRow[] = [];
      for (const mode of ['ingress', 'gateway', 'listener-rule'] as const) {
        process.stderr.write(`bench: scale: ${s.name}, ${mode} mode, cold round...\n`);
        modes.push(await coldRound(mode, seeded, proxy, s.albs));
      }
      const sample = [0, 0.25, 0.5, 0.75, 1].map((f) => seeded[Math.min(seeded.length - 1, Math.floor(f * (seeded.length - 1)))]!);
      let sampleCalls = 0;
      for (const r of sample) sampleCalls += (await argoVerify(ctx, proxy, [r.lb.hostname], `${NS}/${r.ingress}-${r.name}-canary:${PORT}`, 1)).calls;
      const callsPerVerification = sampleCalls / sample.length;
      const argoCalls = callsPerVerification * rollouts;
      scenarios.push({
        name: s.name,
        rollouts,
        albs: s.albs,
        listenersPerAlb: 1,
        targetGroupsPerAlb: (2 * rollouts) / s.albs,
        rateLimit: RATE_LIMIT,
        rateBurst: RATE_BURST,
        modes,
        argo: { sample: sample.length, callsPerVerification, calls: argoCalls, seconds: Math.max(0, argoCalls - RATE_BURST) / RATE_LIMIT },
      });
    }
    return { scenarios };
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}
