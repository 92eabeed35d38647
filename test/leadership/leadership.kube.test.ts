// Two "sidecars" of two controller pods against a real kube-apiserver, each with its own ServiceAccount
// bound only to deploy/'s ClusterRole, following a Lease written the way client-go's leaderelection writes it
// for Argo's controller (test/support/kube/lease.ts). Each runs the Rollout watch and cleanup
// (startRolloutWatch + the modes' cleanup, as src/sidecar.ts composes them) behind the leadership gate. The API
// server's audit log says who wrote what and when: only the leader's cleanup runs and writes; when the
// leading controller dies, the other sidecar takes over within one lease period of its controller acquiring
// the Lease, after the first one stopped, starts cold (lists, sweeps) and releases only what is still due.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CoordinationV1Api, CustomObjectsApi, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { CleanupController } from '../../src/cleanup/controller.js';
import { startRolloutWatch } from '../../src/cleanup/watch.js';
import { createIngressClient, listAllIngresses } from '../../src/k8s/ingress-client.js';
import { followLeader, type Leadership } from '../../src/leadership/follower.js';
import { whileLeader, type LeaderGate } from '../../src/leadership/gate.js';
import { DEFAULT_LEASE_NAME, kubeLeaseReader } from '../../src/leadership/lease.js';
import { createReleaser } from '../../src/modes/ingress/releaser.js';
import { testCleanup } from '../support/cleanup.js';
import { microTime } from '../support/lease.js';
import { skipKubeTests } from '../support/kube/assets.js';
import { useCluster, type Cluster } from '../support/kube/cluster.js';
import type { AuditEvent } from '../support/kube/envtest.js';
import { startElector, type Elector } from '../support/kube/lease.js';
import { action, ingress, MANAGED, PLUGIN, PREFIX, rollout } from '../support/kube/fixtures.js';

const LEASE_SECONDS = 4;
const POLL_MS = 500;
const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };
const ACTION = `${PREFIX}/actions.stable-svc`;
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

interface Part {
  name: string;
  username: string;
  leadership: Leadership;
  gate: LeaderGate;
  /** [start, stop] of each term of the cleanup, Date.now(). */
  terms: Array<{ start: number; stop?: number }>;
  /** Calls into the cleanup controller, with the time. */
  calls: Array<{ at: number; what: string }>;
  /** Date.now() of each change of leadership. */
  changes: Array<{ at: number; leader: boolean }>;
  stop(): Promise<void>;
}

/** What src/sidecar.ts builds behind the gate, with a spy on the cleanup controller. */
function startPart(name: string, username: string, kc: KubeConfig, hostname: string, leaseNamespace: string): Part {
  const leadership = followLeader({ lease: { namespace: leaseNamespace, name: DEFAULT_LEASE_NAME }, read: kubeLeaseReader(kc, { namespace: leaseNamespace, name: DEFAULT_LEASE_NAME }), hostname, pollMs: POLL_MS });
  const terms: Part['terms'] = [];
  const calls: Part['calls'] = [];
  const changes: Part['changes'] = [];
  leadership.onChange((leader) => changes.push({ at: Date.now(), leader }));
  const gate = whileLeader(leadership, 'cleanup', () => {
    const term: { start: number; stop?: number } = { start: Date.now() };
    terms.push(term);
    const { controller } = testCleanup({ pluginName: PLUGIN, albIngressClasses: ['alb'], releaser: createReleaser({ ingresses: createIngressClient(kc) }), listIngresses: listAllIngresses(kc) });
    const spied = Object.create(controller) as CleanupController;
    spied.upsert = (r) => (calls.push({ at: Date.now(), what: `upsert ${r.metadata.name}` }), controller.upsert(r));
    spied.remove = (r) => (calls.push({ at: Date.now(), what: `remove ${r.metadata.name}` }), controller.remove(r));
    spied.sweep = () => (calls.push({ at: Date.now(), what: 'sweep' }), controller.sweep());
    const watch = startRolloutWatch({ kc, controller: spied, sweepEveryMs: 1000, retryDelayMs: 300 });
    return {
      async stop() {
        await watch.stop();
        term.stop = Date.now();
      },
    };
  });
  return {
    name,
    username,
    leadership,
    gate,
    terms,
    calls,
    changes,
    async stop() {
      await gate.stop();
      await leadership.stop();
    },
  };
}

/** A second ServiceAccount bound to the same shipped ClusterRoles as the cluster's sidecar identity. */
async function secondIdentity(c: Cluster, sa: string): Promise<{ kc: KubeConfig; username: string }> {
  const ns = c.sidecar.namespace;
  const token = await c.env.serviceAccountToken(ns, sa);
  await c.env.apply(
    c.sidecar.roles.map(({ role }) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${role.metadata?.name ?? ''}-${ns}-${sa}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata?.name ?? '' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    })) as never,
  );
  return { kc: c.env.configForToken(token), username: `system:serviceaccount:${ns}:${sa}` };
}

const at = (e: AuditEvent) => Date.parse(e.requestReceivedTimestamp);
const writesBy = (events: AuditEvent[], username: string) => events.filter((e) => e.user.username === username && WRITES.has(e.verb));
const describeEvent = (e: AuditEvent) => `${e.verb} ${e.objectRef?.resource ?? ''} ${e.objectRef?.namespace ?? ''}/${e.objectRef?.name ?? ''}`;

describe.skipIf(skipKubeTests())('two sidecars follow the controllers\' leader Lease', () => {
  const cluster = useCluster({ auditLog: true });
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('only the leader\'s cleanup runs and writes; a dead leader\'s sidecar stops before the other controller acquires, and the other sidecar takes over within one lease period, cold', async () => {
    const c = cluster();
    const ctl = await c.createNamespace('argo-rollouts');
    const app = await c.createNamespace('app');
    const a = { kc: c.sidecarConfig(), username: `system:serviceaccount:${c.sidecar.namespace}:${c.sidecar.serviceAccount}` };
    const b = await secondIdentity(c, 'rollouts-plugin-alb-b');
    const custom = c.admin.makeApiClient(CustomObjectsApi);

    // Two Ingresses, each in the state a SetWeight 30 of its Rollout left behind.
    for (const [ing, ro] of [['ingress-1', 'r1'], ['ingress-2', 'r2']] as const) {
      const obj = ingress({ namespace: app, name: ing });
      obj.metadata.annotations = { ...obj.metadata.annotations, [ACTION]: action('canary-svc', 'stable-svc', 80, 30), [MANAGED]: `{"${ro}":["${ACTION}"]}` };
      await c.create(obj);
      await custom.createNamespacedCustomObject({ ...ROLLOUTS, namespace: app, body: rollout({ namespace: app, name: ro, ingresses: [ing] }) });
    }
    // Emptied bookkeeping is removed: no annotation reads as `{}`.
    const managedOf = async (name: string) => (await c.readIngress(app, name)).metadata.annotations?.[MANAGED] ?? '{}';

    // Pod A's controller leads.
    const electorA = startElector({ kc: c.admin, namespace: ctl, name: DEFAULT_LEASE_NAME, identity: `pod-a_${randomUUID()}`, leaseDurationSeconds: LEASE_SECONDS, retryPeriodMs: 1000 });
    cleanups.push(() => electorA.stop());
    await electorA.untilLeader(10_000);
    // Pod B's controller is a candidate from the start, watching the Lease as client-go does.
    const electorB = startElector({ kc: c.admin, namespace: ctl, name: DEFAULT_LEASE_NAME, identity: `pod-b_${randomUUID()}`, leaseDurationSeconds: LEASE_SECONDS, retryPeriodMs: 1000 });
    cleanups.push(() => electorB.stop());
    const partA = startPart('A', a.username, a.kc, 'pod-a', ctl);
    const partB = startPart('B', b.username, b.kc, 'pod-b', ctl);
    cleanups.push(() => partA.stop(), () => partB.stop());

    await vi.waitFor(() => expect(partA.gate.running()).toBe(true), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(partB.leadership.verdict().reason).toBe('other'), { timeout: 10_000, interval: 50 });
    expect(partB.leadership.verdict().holder).toMatch(/^pod-a_/);

    // A deletion while A leads: A releases ingress-1.
    await custom.deleteNamespacedCustomObject({ ...ROLLOUTS, namespace: app, name: 'r1' });
    await vi.waitFor(async () => expect(await managedOf('ingress-1')).toBe('{}'), { timeout: 15_000, interval: 100 });

    // Pod A's controller dies (it stops renewing and does not release the Lease). Its sidecar turns standby
    // one lease period after it last saw a renewal, having stopped its watch, and before pod B's controller
    // may take the Lease over (once the record it observed has not changed for a lease period).
    expect(electorB.writes()).toBe(0);
    await electorA.stop();
    const died = Date.now();
    await vi.waitFor(() => expect(partA.gate.running()).toBe(false), { timeout: 3 * LEASE_SECONDS * 1000, interval: 10 });
    const aStopped = partA.terms[0]!.stop!;
    // A Rollout deleted now: A no longer watches, and B's controller has not acquired yet (checked below).
    await custom.deleteNamespacedCustomObject({ ...ROLLOUTS, namespace: app, name: 'r2' });
    expect(partA.leadership.verdict().reason).toBe('expired');
    expect(aStopped - died).toBeLessThanOrEqual(LEASE_SECONDS * 1000 + 2 * POLL_MS + 500);
    const acquired = await electorB.untilLeader(4 * LEASE_SECONDS * 1000);
    expect(acquired).toBeGreaterThanOrEqual(aStopped);
    await vi.waitFor(() => expect(partB.gate.running()).toBe(true), { timeout: LEASE_SECONDS * 1000, interval: 10 });
    const bStarted = partB.terms[0]!.start;
    // Within one lease period of its controller acquiring (in practice one or two polls).
    expect(bStarted - acquired).toBeLessThanOrEqual(LEASE_SECONDS * 1000);
    expect(bStarted).toBeGreaterThan(aStopped);

    // B starts cold: its watch lists the Rollouts (r2 is gone) and its sweep releases ingress-2.
    await vi.waitFor(async () => expect(await managedOf('ingress-2')).toBe('{}'), { timeout: 15_000, interval: 100 });
    expect((await c.readIngress(app, 'ingress-2')).metadata.annotations?.[ACTION]).toBe(
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-svc","ServicePort":"80","Weight":100}]}}',
    );
    // Let B sweep a few more times: nothing else is due, nothing is released twice.
    await new Promise((r) => setTimeout(r, 2500));

    // A's cleanup was never called after its term, B's never before its own.
    expect(partA.calls.filter((x) => x.at > aStopped)).toEqual([]);
    expect(partB.calls.filter((x) => x.at < bStarted)).toEqual([]);
    expect(partB.calls.some((x) => x.what === 'sweep')).toBe(true);

    // What the API server saw. Writes: A's only inside A's term, B's only inside B's term, one release each.
    const events = c.env.auditEvents();
    const aWrites = writesBy(events, a.username);
    const bWrites = writesBy(events, b.username);
    expect(aWrites.map(describeEvent)).toEqual([`patch ingresses ${app}/ingress-1`]);
    expect(bWrites.map(describeEvent)).toEqual([`patch ingresses ${app}/ingress-2`]);
    for (const e of aWrites) expect(at(e)).toBeLessThanOrEqual(aStopped);
    for (const e of bWrites) expect(at(e)).toBeGreaterThanOrEqual(bStarted - 5);
    // While standby, B only read the Lease: no list or watch of Rollouts, no Ingress read.
    const bBefore = events.filter((e) => e.user.username === b.username && at(e) < bStarted - 5);
    expect(bBefore.length).toBeGreaterThan(0);
    expect([...new Set(bBefore.map((e) => `${e.verb} ${e.objectRef?.resource ?? e.requestURI}`))]).toEqual(['get leases']);
    // Nobody else touched ingress-1 after A released it.
    expect(events.filter((e) => WRITES.has(e.verb) && e.objectRef?.name === 'ingress-1' && e.user.username !== 'envtest-admin').length).toBe(1);
  }, 120_000);

  it('a holder flipped straight to another pod hands over at the next poll, and back', async () => {
    const c = cluster();
    const ctl = await c.createNamespace('argo-rollouts');
    const b = await secondIdentity(c, 'rollouts-plugin-alb-c');
    const partA = startPart('A', 'a', c.sidecarConfig(), 'pod-a', ctl);
    const partB = startPart('B', 'b', b.kc, 'pod-b', ctl);
    cleanups.push(() => partA.stop(), () => partB.stop());
    await vi.waitFor(() => expect(partA.leadership.verdict().reason).toBe('absent'), { timeout: 10_000, interval: 50 });

    // Each flip: an elector whose identity the Lease was just handed to keeps renewing it.
    let elector: Elector | undefined;
    cleanups.push(() => elector?.stop() ?? Promise.resolve());
    const leases = c.admin.makeApiClient(CoordinationV1Api);
    const flip = async (identity: string): Promise<number> => {
      await elector?.stop();
      const now = microTime(new Date());
      const spec = { holderIdentity: identity, leaseDurationSeconds: LEASE_SECONDS, acquireTime: now, renewTime: now, leaseTransitions: 1 };
      try {
        const live = await leases.readNamespacedLease({ namespace: ctl, name: DEFAULT_LEASE_NAME });
        await leases.replaceNamespacedLease({ namespace: ctl, name: DEFAULT_LEASE_NAME, body: { ...live, spec: spec as unknown as V1Lease['spec'] } });
      } catch {
        await leases.createNamespacedLease({ namespace: ctl, body: { metadata: { name: DEFAULT_LEASE_NAME }, spec: spec as unknown as V1Lease['spec'] } });
      }
      const flipped = Date.now();
      elector = startElector({ kc: c.admin, namespace: ctl, name: DEFAULT_LEASE_NAME, identity, leaseDurationSeconds: LEASE_SECONDS, retryPeriodMs: 1000 });
      return flipped;
    };

    for (const [to, from] of [[partA, partB], [partB, partA], [partA, partB]] as const) {
      const flipped = await flip(`pod-${to.name.toLowerCase()}_${randomUUID()}`);
      await vi.waitFor(() => {
        expect(to.gate.running()).toBe(true);
        expect(from.gate.running()).toBe(false);
      }, { timeout: LEASE_SECONDS * 1000, interval: 20 });
      const led = to.changes.at(-1)!;
      expect(led.leader).toBe(true);
      expect(led.at - flipped).toBeLessThanOrEqual(2 * POLL_MS + 200);
    }
    // One term each time. (A holder written straight over a live one is not what client-go does, so the two
    // may overlap by a poll here; the test above shows the real hand-over, after expiry, never overlaps.)
    expect([partA.terms.length, partB.terms.length]).toEqual([2, 1]);
  }, 60_000);
});
