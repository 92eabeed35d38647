// Rollouts and Ingresses for the cleanup tests, plus a nock-backed fake API server for Ingress reads and
// patches (the real client-node client goes through it; no network connection is allowed).

import nock from 'nock';
import type { KubeConfig } from '@kubernetes/client-node';
import { fakeKubeConfig } from '../k8s/fake-cluster.js';
import { applyIngressEdit, type Ingress, type HTTPIngressPath } from '../../src/k8s/ingress.js';
import type { Rollout } from '../../src/core/rollout.js';

export const API = 'http://127.0.0.1:6443';
export const PLUGIN = 'argoproj-labs/alb';
export const MANAGED = 'alb.rollouts.argoproj-labs.io/managed-annotations';
export const P = 'alb.ingress.kubernetes.io';
export const NS = 'shop';

export function kubeConfig(): KubeConfig {
  return fakeKubeConfig(API);
}

export interface RolloutSpecOptions {
  name?: string;
  ingresses?: Array<string | { name: string; servicePort: number }>;
  rootService?: string;
  pingPong?: boolean;
  stablePingPong?: 'ping' | 'pong';
  managedRoutes?: string[];
  plugin?: string;
  stable?: string;
  canary?: string;
}

export function rollout(o: RolloutSpecOptions = {}): Rollout {
  const block: Record<string, unknown> = { ingresses: o.ingresses ?? ['app'], servicePort: 80 };
  if (o.rootService) block.rootService = o.rootService;
  const canary: Record<string, unknown> = {
    trafficRouting: {
      plugins: { [o.plugin ?? PLUGIN]: block },
      ...(o.managedRoutes ? { managedRoutes: o.managedRoutes.map((name) => ({ name })) } : {}),
    },
  };
  if (o.pingPong) canary.pingPong = { pingService: 'app-ping', pongService: 'app-pong' };
  else {
    canary.stableService = o.stable ?? 'app-stable';
    canary.canaryService = o.canary ?? 'app-canary';
  }
  const name = o.name ?? 'web';
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: NS, uid: `uid-${name}`, resourceVersion: '100' },
    spec: { strategy: { canary } },
    status: o.stablePingPong ? { canary: { stablePingPong: o.stablePingPong } } : {},
  };
}

export const fwd = (...tgs: Array<[string, number, number]>) =>
  `{"Type":"forward","ForwardConfig":{"TargetGroups":[${tgs
    .map(([s, port, w]) => `{"ServiceName":"${s}","ServicePort":"${port}","Weight":${w}}`)
    .join(',')}]}}`;

export function path(service: string, p = '/*'): HTTPIngressPath {
  return { path: p, pathType: 'ImplementationSpecific', backend: { service: { name: service, port: { name: 'use-annotation' } } } };
}

export function ingress(name: string, annotations: Record<string, string>, paths: HTTPIngressPath[], cls = 'alb'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, resourceVersion: '41', annotations },
    spec: { ingressClassName: cls, rules: [{ host: 'shop.example.com', http: { paths } }] },
  };
}

export interface Patch {
  ingress: string;
  contentType: string | undefined;
  body: { metadata: { resourceVersion: string; annotations: Record<string, string | null> }; spec?: { rules: unknown[] } };
}

/** Serves GETs of the given Ingresses (as often as asked) and records PATCHes, answering each with `patchStatus`. */
export function fakeIngressApi(ingresses: Ingress[], opts: { patchStatuses?: number[] } = {}) {
  const patches: Patch[] = [];
  const statuses = [...(opts.patchStatuses ?? [])];
  const byName = new Map(ingresses.map((i) => [i.metadata.name, i]));
  const scope = nock(API)
    .persist()
    .get(new RegExp(`^/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/[^/?]+$`))
    .reply((uri) => {
      const ing = byName.get(uri.split('/').pop()!);
      return ing
        ? [200, ing]
        : [404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `ingresses.networking.k8s.io "${uri.split('/').pop()}" not found` }];
    })
    .patch(new RegExp(`^/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/[^/?]+$`))
    .reply(function (uri, body) {
      const name = uri.split('/').pop()!;
      // nock parses only application/json bodies; a merge patch arrives as text.
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as Patch['body'];
      patches.push({ ingress: name, contentType: this.req.headers['content-type'] as string | undefined, body: parsed });
      const status = statuses.shift() ?? 200;
      if (status === 409) {
        // Someone else wrote in between: the next read sees a newer version.
        const cur = byName.get(name)!;
        byName.set(name, { ...cur, metadata: { ...cur.metadata, resourceVersion: String(Number(cur.metadata.resourceVersion) + 1) } });
        return [409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'the object has been modified; please apply your changes to the latest version and try again' }];
      }
      // Apply the merge patch like the API server would, so later reads see it.
      const cur = byName.get(name)!;
      const edit = { annotations: parsed.metadata.annotations, ...(parsed.spec ? { rules: parsed.spec.rules as never } : {}) };
      const next = applyIngressEdit(cur, edit);
      next.metadata.resourceVersion = String(Number(cur.metadata.resourceVersion) + 1);
      byName.set(name, next);
      return [status, next];
    });
  return { scope, patches, current: (name: string) => byName.get(name) };
}
