// Gateway mode's sweep (issue #21), pure: the gateway-owned entry format (old entries still read), the release of
// one entry from what it records (route/release.ts), which entries the sweep releases (sweep.ts), and the
// cleanup's sweep over a listed cluster with the API server's answer on each Rollout.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../../src/core/rollout.js';
import { createLogger } from '../../../src/logger.js';
import { gatewayRouteCleanup } from '../../../src/modes/gateway/cleanup.js';
import type { RouteRef } from '../../../src/modes/gateway/config.js';
import { applyJsonPatch } from '../../../src/modes/gateway/json-patch.js';
import type { HTTPRoute } from '../../../src/modes/gateway/route/model.js';
import { bookkeepingOps, OWNED_ANNOTATION, ownedBy, owners, parseOwnerKey } from '../../../src/modes/gateway/route/ownership.js';
import { planReleaseOwner } from '../../../src/modes/gateway/route/release.js';
import type { OwnerRelease } from '../../../src/modes/gateway/router.js';
import { sweepDecision, sweepEntries, type SweepEntry } from '../../../src/modes/gateway/sweep.js';
import type { CleanupContext } from '../../../src/plugin/mode.js';

const PLUGIN = 'argoproj-labs/alb';
const REF: RouteRef = { kind: 'HTTPRoute', namespace: 'web', name: 'shop' };
const RELEASE = { stable: 'shop-stable', canary: 'shop-canary' };

function route(owned: Record<string, unknown> | undefined, rules?: HTTPRoute['spec']['rules']): HTTPRoute {
  return {
    metadata: { name: 'shop', namespace: 'web', resourceVersion: '7', ...(owned ? { annotations: { [OWNED_ANNOTATION]: JSON.stringify(owned), keep: 'me' } } : {}) },
    spec: {
      rules: rules ?? [
        { name: 'api', backendRefs: [{ name: 'api', port: 80 }] },
        {
          name: 'main',
          backendRefs: [
            { name: 'shop-stable', port: 80, weight: 70 },
            { name: 'shop-canary', port: 80, weight: 20 },
            { name: 'exp-a', port: 8080, weight: 10 },
          ],
        },
        { name: 'argo-shop-beta', backendRefs: [{ name: 'shop-canary', port: 80, weight: 100 }] },
      ],
    },
  };
}

/** The route after `planReleaseOwner`'s patch, applied as the API server would. */
function released(r: HTTPRoute, owner = 'web/shop') {
  const plan = planReleaseOwner(r, REF, owner, PLUGIN);
  const after = structuredClone(r);
  applyJsonPatch(after, plan.ops);
  return { plan, after };
}

describe('gateway-owned entries', () => {
  it('an entry holds rules, experiment backendRefs or weights off stable; the release record alone is no hold and is dropped', () => {
    const r = route({ 'web/shop': { rules: {}, backends: [], shifted: true, release: RELEASE } });
    expect(bookkeepingOps(r, 'web/shop', { rules: {}, backends: [], release: RELEASE })).toEqual([
      { op: 'remove', path: '/metadata/annotations/alb.rollouts.argoproj-labs.io~1gateway-owned' },
    ]);
    expect(bookkeepingOps(r, 'web/shop', { rules: {}, backends: [], shifted: true, release: RELEASE })).toEqual([]);
    // An entry of an older sidecar is rewritten in the new format at the next write, with nothing else changed.
    const old = route({ 'web/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: [] } });
    expect(ownedBy(old, 'web/shop')).toEqual({ rules: { 'argo-shop-beta': 'beta' }, backends: [] });
    const ops = bookkeepingOps(old, 'web/shop', { rules: { 'argo-shop-beta': 'beta' }, backends: [], release: RELEASE });
    expect(ops).toHaveLength(1);
    expect(JSON.parse((ops[0] as { value: string }).value)).toEqual({ 'web/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: [], release: RELEASE } });
  });

  it('fields of the wrong type are left out, so a hand-edited entry removes nothing it does not name', () => {
    const r = route({ 'web/shop': { rules: { a: 'x', b: 3 }, backends: ['exp-a', 5, ''], shifted: 'yes', release: { stable: 'shop-stable', canary: 7 } } });
    expect(ownedBy(r, 'web/shop')).toEqual({ rules: { a: 'x' }, backends: ['exp-a'] });
    expect(ownedBy(route({ 'web/shop': { rules: {}, backends: [], release: { ...RELEASE, ruleName: 'main', maxWeight: -1 } } }), 'web/shop').release).toEqual({
      ...RELEASE,
      ruleName: 'main',
    });
  });

  it.each([
    ['web/shop', { namespace: 'web', name: 'shop' }],
    ['shop', undefined],
    ['/shop', undefined],
    ['web/', undefined],
    ['a/b/c', undefined],
  ])('owner key %s', (key, want) => {
    expect(parseOwnerKey(key)).toEqual(want);
  });
});

describe('releasing one entry from what it records', () => {
  it("header rules out, the driven rule 100 % on the recorded stable, the Rollout's experiment backendRef out, its entry out; the rest stays", () => {
    const { plan, after } = released(
      route({ 'web/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: ['exp-a'], shifted: true, release: RELEASE }, 'web/other': { rules: {}, backends: [], shifted: true, release: { stable: 'o-s', canary: 'o-c' } } }),
    );
    expect(plan.weightsLeft).toBeUndefined();
    expect(plan.ops[0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '7' });
    expect(plan.ops.filter((o) => o.path === '/metadata/resourceVersion')).toHaveLength(1);
    expect(after.spec.rules).toEqual([
      { name: 'api', backendRefs: [{ name: 'api', port: 80 }] },
      { name: 'main', backendRefs: [{ name: 'shop-stable', port: 80, weight: 100 }, { name: 'shop-canary', port: 80, weight: 0 }] },
    ]);
    expect(owners(after)).toEqual(['web/other']);
    expect(after.metadata.annotations?.keep).toBe('me');
  });

  it('the recorded ruleName and maxTrafficWeight: only that rule, stable gets the whole of maxTrafficWeight', () => {
    const rules = [
      { name: 'a', backendRefs: [{ name: 'shop-stable', weight: 50 }, { name: 'shop-canary', weight: 50 }] },
      { name: 'b', backendRefs: [{ name: 'shop-stable', weight: 150 }, { name: 'shop-canary', weight: 50 }] },
    ];
    const { after } = released(route({ 'web/shop': { rules: {}, backends: [], shifted: true, release: { ...RELEASE, ruleName: 'b', maxWeight: 200 } } }, rules));
    expect(after.spec.rules!.map((r) => r.backendRefs!.map((b) => b.weight))).toEqual([[50, 50], [200, 0]]);
    expect(after.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
  });

  it('an entry of an older sidecar (no release record): header rules and entry out, weights and experiment backendRefs left, saying why', () => {
    const before = route({ 'web/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: ['exp-a'] } });
    const { plan, after } = released(before);
    expect(after.spec.rules).toEqual(before.spec.rules!.slice(0, 2));
    expect(after.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    expect(plan.weightsLeft).toMatch(/older sidecar and does not name the Rollout's stable Service; set the weights of the driven rules by hand and remove the experiment backendRefs exp-a/);
  });

  it('a route whose driven rule is gone: header rules and entry out, weights left, naming the rule that is missing', () => {
    const rules = [{ name: 'other', backendRefs: [{ name: 'x', weight: 1 }] }, { name: 'argo-shop-beta', backendRefs: [{ name: 'shop-canary', weight: 100 }] }];
    const { plan, after } = released(route({ 'web/shop': { rules: { 'argo-shop-beta': 'beta' }, backends: [], shifted: true, release: RELEASE } }, rules));
    expect(after.spec.rules).toEqual([rules[0]]);
    expect(after.metadata.annotations?.[OWNED_ANNOTATION]).toBeUndefined();
    expect(plan.weightsLeft).toMatch(/cannot be set back from the entry: HTTPRoute web\/shop has no rule whose backendRefs name both the stable Service "shop-stable" and the canary Service "shop-canary"/);
  });

  it('nothing to do when the route records nothing for the owner (released meanwhile)', () => {
    expect(planReleaseOwner(route({ 'web/other': { rules: {}, backends: [], shifted: true, release: RELEASE } }), REF, 'web/shop', PLUGIN).ops).toEqual([]);
    expect(planReleaseOwner(route(undefined), REF, 'web/shop', PLUGIN).ops).toEqual([]);
  });
});

function gwRollout(ns: string, name: string, block: Record<string, unknown> = { httpRoutes: [{ name: 'shop', namespace: 'web' }] }, plugin = PLUGIN): Rollout {
  return {
    metadata: { namespace: ns, name },
    spec: { strategy: { canary: { stableService: 'shop-stable', canaryService: 'shop-canary', trafficRouting: { plugins: { [plugin]: block } } } } },
  };
}

/** The mode table's answer, as the controller gives it: Gateway blocks are here, other blocks of the plugin elsewhere. */
const ctxOf = (seen: Record<string, Rollout> = {}, read?: CleanupContext['read']): CleanupContext => ({
  placeOf: (r) => {
    const block = r.spec.strategy.canary?.trafficRouting?.plugins?.[PLUGIN] as Record<string, unknown> | undefined;
    return !block ? 'none' : ['httpRoute', 'httpRoutes', 'grpcRoute', 'grpcRoutes'].some((f) => block[f] !== undefined) ? 'here' : 'elsewhere';
  },
  readable: () => true,
  seen: (ns, name) => seen[`${ns}/${name}`],
  ...(read ? { read } : {}),
});

describe('which entries the sweep releases', () => {
  const entry: SweepEntry = { ref: REF, owner: 'web/shop', namespace: 'web', name: 'shop' };

  it.each<[string, Rollout | undefined, 'keep' | 'release']>([
    ['the Rollout is gone', undefined, 'release'],
    ['it names the route', gwRollout('web', 'shop'), 'keep'],
    ['it names the route by name, in its own namespace', gwRollout('web', 'shop', { httpRoute: 'shop' }), 'keep'],
    ['it names other routes now', gwRollout('web', 'shop', { httpRoute: 'other' }), 'release'],
    ['a route of the same name in another namespace', gwRollout('web', 'shop', { httpRoutes: [{ name: 'shop', namespace: 'edge' }] }), 'release'],
    ['it moved to another mode of the plugin', gwRollout('web', 'shop', { ingress: 'shop', servicePort: 80 }), 'release'],
    ['it does not use this plugin (name): another sidecar may drive the route', gwRollout('web', 'shop', { httpRoute: 'other' }, 'someone/else'), 'keep'],
    ['its block cannot be read (mid-edit)', gwRollout('web', 'shop', { httpRoute: 42 }), 'keep'],
    ['it names a GRPCRoute of the same name, not this HTTPRoute', gwRollout('web', 'shop', { grpcRoute: 'shop' }), 'release'],
  ])('%s: %s', (_what, rollout, want) => {
    expect(sweepDecision(entry, rollout, ctxOf(), PLUGIN)).toBe(want);
  });

  it('lists every entry of every route; a key that names no Rollout is reported and left alone', () => {
    const bad: string[] = [];
    const other: HTTPRoute = { ...route({ 'edge/x': {} }), metadata: { ...route({ 'edge/x': {} }).metadata, namespace: 'edge', name: 'gw' } };
    const grpc: HTTPRoute = { ...route({ 'web/shop': {} }), kind: 'GRPCRoute' };
    expect(sweepEntries([route({ 'web/shop': {}, nonsense: {} }), route(undefined), other, grpc], (ref, owner) => bad.push(`${ref.namespace}/${ref.name} ${owner}`))).toEqual([
      { ref: REF, owner: 'web/shop', namespace: 'web', name: 'shop' },
      { ref: { kind: 'HTTPRoute', namespace: 'edge', name: 'gw' }, owner: 'edge/x', namespace: 'edge', name: 'x' },
      { ref: { kind: 'GRPCRoute', namespace: 'web', name: 'shop' }, owner: 'web/shop', namespace: 'web', name: 'shop' },
    ]);
    expect(bad).toEqual(['web/shop nonsense']);
  });
});

function memoryLogger(level = 'debug') {
  const lines: Array<Record<string, unknown> & { msg: string; level: number }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as (typeof lines)[number]);
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

describe('the cleanup sweep over the listed HTTPRoutes', () => {
  function sweeper(list: () => Promise<HTTPRoute[] | undefined>, answer: (ref: RouteRef, owner: string) => OwnerRelease | Error = () => ({ outcome: 'released' })) {
    const { logger, lines } = memoryLogger();
    const calls: string[] = [];
    const outcomes: string[] = [];
    const cleanup = gatewayRouteCleanup({
      pluginName: PLUGIN,
      release: async () => {
        throw new Error('no Rollout-based release in these tests');
      },
      listRoutes: list,
      releaseOwner: async (ref, owner) => {
        calls.push(`${ref.namespace}/${ref.name} ${owner}`);
        const a = answer(ref, owner);
        if (a instanceof Error) throw a;
        return a;
      },
      logger,
      onOutcome: (o) => outcomes.push(o),
    });
    return { cleanup, calls, outcomes, lines };
  }
  const entries = { 'web/gone': { rules: {}, backends: [], shifted: true, release: RELEASE }, 'web/shop': { rules: {}, backends: [], shifted: true, release: RELEASE } };

  it('releases the entry of a Rollout that is gone, keeps the one of a Rollout that names the route', async () => {
    const s = sweeper(async () => [route(entries)]);
    const out = await s.cleanup.sweep(ctxOf({ 'web/shop': gwRollout('web', 'shop') }, async (ns, name) => (name === 'shop' ? gwRollout(ns, name) : undefined)));
    expect(s.calls).toEqual(['web/shop web/gone']);
    expect(out).toEqual(['released']);
    expect(s.outcomes).toEqual(['released']);
    expect(s.lines.find((l) => l.msg.includes('found by the sweep'))).toMatchObject({ rollout: 'web/gone', route: 'web/shop' });
  });

  it('asks the API server before releasing: a Rollout the watch has not seen yet keeps its entry; an unreadable Rollout is left for the next sweep', async () => {
    const s = sweeper(async () => [route(entries)]);
    const out = await s.cleanup.sweep(
      ctxOf({}, async (ns, name) => {
        if (name === 'gone') throw new Error('etcdserver: request timed out');
        return gwRollout(ns, name);
      }),
    );
    expect(s.calls).toEqual([]);
    expect(out).toEqual(['unchanged', 'unchanged']);
    expect(s.lines.find((l) => l.msg.includes('could not read the Rollout'))).toMatchObject({ rollout: 'web/gone', err: 'etcdserver: request timed out' });
  });

  it('weights left (an older entry) are a warning naming why; a failed release is an error outcome, tried again at the next sweep', async () => {
    const s = sweeper(
      async () => [route(entries)],
      (_ref, owner) => (owner === 'web/gone' ? { outcome: 'released', weightsLeft: 'the entry was written by an older sidecar' } : new Error('HTTP 500')),
    );
    const out = await s.cleanup.sweep(ctxOf({}, async () => undefined));
    expect(out.sort()).toEqual(['error', 'released']);
    const warned = s.lines.filter((l) => l.level === 40).map((l) => [l.msg, l.why ?? l.err]);
    expect(warned).toEqual(
      expect.arrayContaining([
        [expect.stringMatching(/released the header rules of web\/gone on HTTPRoute web\/shop.*weights are left as they are/), 'the entry was written by an older sidecar'],
        [expect.stringMatching(/could not release .* next sweep tries again/), 'HTTP 500'],
      ]),
    );
  });

  it('an entry whose release keeps failing is given up after maxRetries sweeps, said once at error level with what to do by hand', async () => {
    const s = sweeper(async () => [route({ 'web/gone': entries['web/gone'] })], () => new Error('HTTP 500'));
    const ctx = ctxOf({}, async () => undefined);
    const outs: string[][] = [];
    for (let i = 0; i < 12; i++) outs.push(await s.cleanup.sweep(ctx));
    expect(s.calls).toHaveLength(10);
    expect(outs.slice(0, 10).every((o) => o.length === 1 && o[0] === 'error')).toBe(true);
    expect(outs.slice(10)).toEqual([['unchanged'], ['unchanged']]);
    const errors = s.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ rollout: 'web/gone', attempts: 10, msg: expect.stringMatching(/giving up releasing web\/gone on HTTPRoute web\/shop; .*by hand/) });
    // A new leadership term (reset) tries again.
    s.cleanup.reset?.();
    await s.cleanup.sweep(ctx);
    expect(s.calls).toHaveLength(11);
  });

  it('without the Gateway API (no httproutes served) the sweep does nothing and says so at debug level only', async () => {
    const s = sweeper(async () => undefined);
    expect(await s.cleanup.sweep(ctxOf())).toEqual([]);
    expect(s.lines.map((l) => [l.level, l.msg])).toEqual([[20, expect.stringMatching(/Gateway API not installed/)]]);
  });

  it('a list that fails is a warning, and the sweep goes on next time', async () => {
    const s = sweeper(async () => {
      throw new Error('listing HTTPRoutes: HTTP 403 (grant the plugin list on gateway.networking.k8s.io httproutes in every namespace)');
    });
    expect(await s.cleanup.sweep(ctxOf())).toEqual([]);
    expect(s.lines.map((l) => [l.level, l.msg])).toEqual([[40, expect.stringMatching(/could not list the Gateway API routes/)]]);
  });
});
