// The status.alb updater: written after a VerifyWeight that checked, once per set of roles (no discovery while the
// roles stay), again when ping-pong swaps them, never when the status already holds the fields, and from a fresh
// read after a 409.
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/core/rollout.js';
import { KubernetesApiError } from '../../src/k8s/ingress-client.js';
import type { RolloutStatusClient } from '../../src/k8s/rollout-status.js';
import type { AlbTargets } from '../../src/plugin/mode.js';
import { ModeTable } from '../../src/plugin/mode-table.js';
import { IDLE_VERBS, RpcVerified, type TrafficRouter } from '../../src/plugin/router.js';
import { createAlbStatusUpdater, withAlbStatus } from '../../src/status/updater.js';

const PLUGIN = 'argoproj-labs/alb';
const LB = 'arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/app/shop/aaaa';
const PING = 'arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/ping/1111';
const PONG = 'arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/pong/2222';

function rollout(stablePingPong: 'ping' | 'pong', rv = '1'): Rollout {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: rv },
    spec: {
      strategy: {
        canary: {
          pingPong: { pingService: 'ping', pongService: 'pong' },
          trafficRouting: { plugins: { [PLUGIN]: { ingress: 'app', servicePort: 80, rootService: 'root' } } },
        },
      },
    },
    status: { canary: { stablePingPong } },
  };
}

/** Ping-pong aware: the stable role's target group is the stable Service's. */
function targetsOf(r: Rollout): AlbTargets[] {
  const pingStable = r.status?.canary?.stablePingPong === 'ping';
  return [{ ingress: 'app', loadBalancerArn: LB, stableTargetGroupArn: pingStable ? PING : PONG, canaryTargetGroupArn: pingStable ? PONG : PING }];
}

function setup(opts: { conflicts?: number; found?: boolean; incomplete?: boolean } = {}) {
  let stored = rollout('pong');
  let conflicts = opts.conflicts ?? 0;
  const patches: Array<Record<string, unknown>> = [];
  let discoveries = 0;
  const client: RolloutStatusClient = {
    async get() {
      return structuredClone(stored);
    },
    async patchStatus(_ns, _name, rv, status) {
      if (conflicts > 0 || rv !== stored.metadata.resourceVersion) {
        conflicts--;
        stored = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(Number(stored.metadata.resourceVersion) + 1) } };
        throw new KubernetesApiError('conflict', 409);
      }
      patches.push(status);
      stored = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(Number(rv) + 1) }, status: { ...stored.status, ...status } };
      return structuredClone(stored);
    },
  };
  const router: TrafficRouter = { ...IDLE_VERBS, setWeight: async () => {}, setHeaderRoute: async () => {}, setMirrorRoute: async () => {}, removeManagedRoutes: async () => {}, verifyWeight: async () => ({ verified: RpcVerified.Verified }) };
  const modes = new ModeTable(PLUGIN, [
    {
      name: 'ingress',
      claims: () => true,
      readable: () => true,
      router,
      cleanup: { changed: async () => [], deleted: async () => [], sweep: async () => [] },
      report: () => Promise.reject(new Error('unused')),
      albTargets: async (r) => {
        discoveries++;
        if (opts.incomplete) return [{ ingress: 'app', loadBalancerArn: LB, stableTargetGroupArn: PONG }];
        return found ? targetsOf(r) : [];
      },
    },
  ]);
  let found = opts.found !== false;
  let clock = 0;
  const updater = createAlbStatusUpdater({ modes, client, now: () => clock, retryAfterMs: 30_000 });
  return {
    updater,
    patches,
    discoveries: () => discoveries,
    stored: () => stored,
    setStored: (r: Rollout) => (stored = r),
    tick: (ms: number) => (clock += ms),
    setFound: (v: boolean) => (found = v),
    router,
  };
}

describe('status.alb updater', () => {
  it('writes once for a set of roles; checks after that cost no discovery', async () => {
    const t = setup();
    await t.updater.afterVerification(t.stored());
    expect(t.patches).toHaveLength(1);
    expect((t.stored().status as { alb?: { stableTargetGroup: { name: string } } }).alb?.stableTargetGroup.name).toBe('pong');
    await t.updater.afterVerification(t.stored());
    await t.updater.afterVerification(t.stored());
    expect(t.discoveries()).toBe(1);
    expect(t.patches).toHaveLength(1);
  });

  it('follows a ping-pong swap: the new roles are discovered and written', async () => {
    const t = setup();
    await t.updater.afterVerification(t.stored());
    t.setStored({ ...t.stored(), status: { ...t.stored().status, canary: { stablePingPong: 'ping' } } });
    await t.updater.afterVerification(t.stored());
    expect(t.patches).toHaveLength(2);
    const alb = (t.stored().status as { alb: { stableTargetGroup: { name: string }; canaryTargetGroup: { name: string } } }).alb;
    expect([alb.stableTargetGroup.name, alb.canaryTargetGroup.name]).toEqual(['ping', 'pong']);
  });

  it('no write when the status already holds the fields (a restarted sidecar)', async () => {
    const t = setup();
    await t.updater.afterVerification(t.stored());
    const fresh = setup();
    fresh.setStored(t.stored());
    await fresh.updater.afterVerification(fresh.stored());
    expect(fresh.discoveries()).toBe(1);
    expect(fresh.patches).toHaveLength(0);
  });

  it('a 409 reads again and writes on the fresh object', async () => {
    const t = setup({ conflicts: 1 });
    await t.updater.afterVerification(t.stored());
    expect(t.patches).toHaveLength(1);
  });

  it('nothing found yet: no write, and no new discovery before the pause', async () => {
    const t = setup({ found: false });
    await t.updater.afterVerification(t.stored());
    await t.updater.afterVerification(t.stored());
    expect(t.discoveries()).toBe(1);
    t.tick(30_000);
    await t.updater.afterVerification(t.stored());
    expect(t.discoveries()).toBe(2);
    expect(t.patches).toHaveLength(0);
  });

  it('a verified check is not held back by the pause after an earlier empty discovery (the ALB came up meanwhile)', async () => {
    const t = setup({ found: false });
    await t.updater.afterVerification(t.stored());
    t.setFound(true);
    // Still within the pause: a not-verified check waits, a verified one does not.
    await t.updater.afterVerification(t.stored(), false);
    expect(t.patches).toHaveLength(0);
    await t.updater.afterVerification(t.stored(), true);
    expect(t.patches).toHaveLength(1);
  });

  it('a role without its target group yet (the LBC still building) is not written: no empty names for AnalysisTemplates', async () => {
    const t = setup({ incomplete: true });
    await t.updater.afterVerification(t.stored(), true);
    expect(t.patches).toHaveLength(0);
    expect((t.stored().status as { alb?: unknown }).alb).toBeUndefined();
    // And it is looked for again at the next check.
    await t.updater.afterVerification(t.stored(), true);
    expect(t.discoveries()).toBe(2);
  });

  it('a Verified answer waits for the first write, so the next step\'s AnalysisRun finds status.alb', async () => {
    const t = setup();
    const wrapped = withAlbStatus({ ...t.router, verifyWeight: async () => ({ verified: RpcVerified.Verified }) }, t.updater);
    await wrapped.verifyWeight(t.stored(), 20, []);
    expect(t.patches).toHaveLength(1);
  });

  it('the router wrapper asks after a checked verdict only (NotImplemented means nothing was checked)', async () => {
    const t = setup();
    let answer = RpcVerified.NotImplemented;
    const wrapped = withAlbStatus({ ...t.router, verifyWeight: async () => ({ verified: answer }) }, t.updater);
    await wrapped.verifyWeight(t.stored(), 20, []);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.discoveries()).toBe(0);
    answer = RpcVerified.NotVerified;
    await wrapped.verifyWeight(t.stored(), 20, []);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.discoveries()).toBe(1);
  });
});
