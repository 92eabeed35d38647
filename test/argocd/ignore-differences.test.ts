// The ignoreDifferences entries of docs/argocd.md, taken from the page itself and run the way Argo CD runs them
// (test/argocd/jqnorm: del(<expression>) with gojq, failures skipped, empty maps and lists dropped), against
// Ingresses that the plugin's own Ingress router wrote: the live Ingress normalizes to the Git one at every
// step of a rollout, every key the plugin's key builders produce is ignored, and what the plugin does not
// own is not.
import { describe, expect, it } from 'vitest';
import type { IngressClient } from '../../src/k8s/ingress-client.js';
import { applyIngressEdit, type Ingress, type IngressEdit } from '../../src/k8s/ingress.js';
import { createIngressRouter } from '../../src/modes/ingress/router.js';
import { actionKey, conditionKey } from '../../src/modes/ingress/keys.js';
import type { Rollout } from '../../src/core/rollout.js';
import { DEFAULT_PLUGIN_NAME } from '../../src/plugin/router.js';
import { ARGO_MANAGED_KEY, DEFAULT_ANNOTATION_PREFIX, PLUGIN_MANAGED_KEY } from '../../src/modes/ingress/types.js';
import { PRODUCT, USER_AGENT } from '../../src/version.js';
import { documentedEntries, hasGo, normalize, type DocumentedEntry } from './support.js';

const PREFIX = DEFAULT_ANNOTATION_PREFIX;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** An Ingress as a user keeps it in Git: a redirect action of their own, the action service behind /api. */
function gitIngress(withAction: boolean): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'shop',
      namespace: 'shop',
      annotations: {
        [`${PREFIX}/scheme`]: 'internet-facing',
        [`${PREFIX}/certificate-arn`]: 'arn:aws:acm:eu-west-1:111122223333:certificate/0f0e',
        [`${PREFIX}/listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]',
        [actionKey(PREFIX, 'ssl-redirect')]: '{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}',
        ...(withAction
          ? { [actionKey(PREFIX, 'shop-stable')]: '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"shop-stable","ServicePort":"80","Weight":100}]}}' }
          : {}),
      },
    },
    spec: {
      ingressClassName: 'alb',
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'ssl-redirect', port: { name: 'use-annotation' } } } },
              { path: '/api', pathType: 'Prefix', backend: { service: { name: 'shop-stable', port: { name: 'use-annotation' } } } },
              { path: '/static', pathType: 'Prefix', backend: { service: { name: 'static', port: { number: 80 } } } },
            ],
          },
        },
        { host: 'status.example.com' },
      ],
    },
  } as Ingress;
}

const rollout: Rollout = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'shop', namespace: 'shop', uid: 'uid-shop' },
  spec: {
    strategy: {
      canary: {
        stableService: 'shop-stable',
        canaryService: 'shop-canary',
        trafficRouting: { managedRoutes: [{ name: 'beta-users' }], plugins: { [DEFAULT_PLUGIN_NAME]: { ingress: 'shop', servicePort: 80 } } },
      },
    },
  },
  status: {},
} as unknown as Rollout;

/** One Ingress held in memory, patched the way the API server applies the router's merge patches. */
function memoryIngresses(initial: Ingress): { client: IngressClient; current(): Ingress } {
  let stored: Ingress = { ...clone(initial), metadata: { ...clone(initial).metadata, resourceVersion: '1' } };
  const client: IngressClient = {
    get: async () => clone(stored),
    patch: async (_ns: string, _name: string, resourceVersion: string, edit: IngressEdit) => {
      if (resourceVersion !== stored.metadata.resourceVersion) throw new Error('conflict');
      stored = applyIngressEdit(stored, edit);
      stored.metadata.resourceVersion = String(Number(resourceVersion) + 1);
      return clone(stored);
    },
  };
  return { client, current: () => clone(stored) };
}

/** What Argo CD compares: the object without the server's bookkeeping. */
function asCompared(ing: Ingress): Ingress {
  const out = clone(ing);
  delete (out.metadata as { resourceVersion?: string }).resourceVersion;
  return out;
}

const docs = documentedEntries();
const byForm = (form: DocumentedEntry['form']) => docs.filter((d) => d.form === form);
const expressionsOf = (d: DocumentedEntry) => d.entries.flatMap((e) => e.jqPathExpressions ?? []);

describe('docs/argocd.md', () => {
  it('documents the Application entry, its argocd-cm form, a narrower form and managedFieldsManagers', () => {
    expect(docs.map((d) => d.form).sort()).toEqual(['application', 'argocd-cm', 'managed-fields', 'narrow']);
    for (const d of docs) for (const e of d.entries) expect(e).toMatchObject({ group: 'networking.k8s.io', kind: 'Ingress' });
  });

  it('gives the same expressions for the Application and argocd-cm, and keeps them on sync', () => {
    const [app] = byForm('application');
    expect(expressionsOf(app!)).toHaveLength(2);
    expect(expressionsOf(byForm('argocd-cm')[0]!)).toEqual(expressionsOf(app!));
    expect(app!.syncOptions).toContain('RespectIgnoreDifferences=true');
  });

  it('names the field manager the API server records for the plugin’s patches (its User-Agent up to the first /)', () => {
    const [managed] = byForm('managed-fields');
    expect(managed!.entries[0]!.managedFieldsManagers).toEqual([PRODUCT]);
    expect(USER_AGENT.split('/')[0]).toBe(PRODUCT);
  });
});

describe.skipIf(!hasGo)('the documented jqPathExpressions, run as Argo CD runs them', () => {
  const main = expressionsOf(byForm('application')[0]!);
  const narrow = expressionsOf(byForm('narrow')[0]!);

  it.each([
    ['Git without the action annotation', false],
    ['Git with the action annotation', true],
  ])('leave nothing to diff at any step of a rollout with a header route (%s)', async (_name, withAction) => {
    const git = gitIngress(withAction);
    const store = memoryIngresses(git);
    const router = createIngressRouter({ ingresses: store.client, pluginName: DEFAULT_PLUGIN_NAME, albIngressClasses: ['alb'] });
    const steps: Array<[string, () => Promise<void>]> = [
      ['setWeight 10', () => router.setWeight(rollout, 10, [])],
      ['setHeaderRoute beta-users', () => router.setHeaderRoute(rollout, { name: 'beta-users', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] })],
      ['setWeight 50', () => router.setWeight(rollout, 50, [])],
      ['header route removed', () => router.setHeaderRoute(rollout, { name: 'beta-users' })],
      ['promoted', () => router.setWeight(rollout, 0, [])],
    ];
    const lives: Array<[string, Ingress]> = [];
    for (const [name, step] of steps) {
      await step();
      lives.push([name, asCompared(store.current())]);
    }
    // The steps did change the Ingress (so there is something to ignore) ...
    const withRoute = lives[1]![1];
    expect(withRoute.metadata.annotations?.[conditionKey(PREFIX, 'beta-users')]).toBeDefined();
    expect(withRoute.spec!.rules![0]!.http!.paths.map((p) => p.backend.service?.name)).toEqual(['ssl-redirect', 'beta-users', 'shop-stable', 'static']);
    expect(lives.every(([, live]) => JSON.stringify(live) !== JSON.stringify(git))).toBe(true);

    // ... and each form of the entry makes every step look like Git.
    for (const expressions of [main, narrow]) {
      const out = normalize(expressions, [git, ...lives.map(([, live]) => live)]);
      expect(out.errors.flat().filter(Boolean)).toEqual([]);
      const [wantGit, ...normalizedLives] = out.objects;
      normalizedLives.forEach((live, i) => expect(live, lives[i]![0]).toEqual(wantGit));
      // What stays compared: the user's own annotations, paths and rules.
      expect(Object.keys((wantGit!.metadata as { annotations: object }).annotations).sort()).toEqual(
        [`${PREFIX}/certificate-arn`, `${PREFIX}/listen-ports`, `${PREFIX}/scheme`, ...(expressions === narrow ? [actionKey(PREFIX, 'ssl-redirect')] : [])].sort(),
      );
      expect(wantGit!.spec).toEqual(git.spec);
    }
  });

  it('still show drift in what the plugin does not own', () => {
    const git = gitIngress(true);
    const drifted = [
      (i: Ingress) => (i.metadata.annotations![`${PREFIX}/scheme`] = 'internal'),
      (i: Ingress) => (i.spec!.rules![0]!.http!.paths[2]!.backend.service!.port = { number: 8080 }),
      (i: Ingress) => i.spec!.rules!.pop(),
      (i: Ingress) => (i.spec!.rules![0]!.http!.paths[1]!.path = '/v2'),
    ].map((change) => {
      const live = clone(git);
      change(live);
      return live;
    });
    for (const expressions of [main, narrow]) {
      const out = normalize(expressions, [git, ...drifted]);
      for (const live of out.objects.slice(1)) expect(live).not.toEqual(out.objects[0]);
    }
    // The narrow form also keeps the user's own redirect action in the diff.
    const redirect = clone(git);
    redirect.metadata.annotations![actionKey(PREFIX, 'ssl-redirect')] = '{"Type":"fixed-response"}';
    const out = normalize(narrow, [git, redirect]);
    expect(out.objects[1]).not.toEqual(out.objects[0]);
  });

  const names = ['shop-stable', 'beta-users', 'a', 'svc.with.dots', 'x-1', 'route-2'];
  const pluginKeys = [...names.flatMap((n) => [actionKey(PREFIX, n), conditionKey(PREFIX, n)]), PLUGIN_MANAGED_KEY, ARGO_MANAGED_KEY];
  const unrelated = [
    `${PREFIX}/scheme`,
    `${PREFIX}/actions`,
    `${PREFIX}/actionsfoo.shop`,
    `${PREFIX}/conditions`,
    `${PREFIX}/group.name`,
    'example.com/actions.shop-stable',
    'alb.ingress.kubernetes.io.example.com/actions.shop-stable',
    'kubernetes.io/ingress.class',
    'argocd.argoproj.io/tracking-id',
    'kubectl.kubernetes.io/last-applied-configuration',
    'rollouts.argoproj.io/managed-alb-annotations-old',
    'alb.rollouts.argoproj-labs.io/other',
  ];

  it('match every key the plugin’s key builders write, and no unrelated annotation', () => {
    const annotations = Object.fromEntries([...pluginKeys, ...unrelated].map((k) => [k, 'v']));
    const out = normalize(main, [{ metadata: { annotations } }]);
    expect(out.errors[0]!.filter(Boolean)).toEqual([]);
    expect(Object.keys((out.objects[0]!.metadata as { annotations: object }).annotations).sort()).toEqual([...unrelated].sort());
  });

  it('narrow form: match only the named service and route (plus bookkeeping)', () => {
    const annotations = Object.fromEntries([...pluginKeys, ...unrelated].map((k) => [k, 'v']));
    const out = normalize(narrow, [{ metadata: { annotations } }]);
    const left = Object.keys((out.objects[0]!.metadata as { annotations: object }).annotations);
    for (const k of [actionKey(PREFIX, 'shop-stable'), actionKey(PREFIX, 'beta-users'), conditionKey(PREFIX, 'beta-users'), PLUGIN_MANAGED_KEY, ARGO_MANAGED_KEY]) {
      expect(left).not.toContain(k);
    }
    for (const k of [conditionKey(PREFIX, 'shop-stable'), actionKey(PREFIX, 'a'), actionKey(PREFIX, 'svc.with.dots'), ...unrelated]) expect(left).toContain(k);
  });

  it('do not fail on Ingresses without annotations, rules, http or service backends', () => {
    const odd = [
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'a' } },
      { metadata: { annotations: {} }, spec: { defaultBackend: { service: { name: 's', port: { number: 80 } } } } },
      { metadata: { annotations: { [conditionKey(PREFIX, 'r')]: '[]' } }, spec: { rules: [{ host: 'h' }, { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'b' } } }] } }] } },
    ];
    for (const expressions of [main, narrow]) expect(normalize(expressions, odd).errors.flat().filter(Boolean)).toEqual([]);
  });

  it('the with_entries form the page warns about does fail in Argo CD’s normalizer', () => {
    const out = normalize(['.metadata.annotations | with_entries(select(.key | test("^alb\\\\.ingress\\\\.kubernetes\\\\.io/actions\\\\.")))'], [
      { metadata: { annotations: { [actionKey(PREFIX, 'shop-stable')]: 'v' } } },
    ]);
    expect(out.errors[0]![0]).toMatch(/invalid path/);
    expect(out.objects[0]).toEqual({ metadata: { annotations: { [actionKey(PREFIX, 'shop-stable')]: 'v' } } });
  });
});
