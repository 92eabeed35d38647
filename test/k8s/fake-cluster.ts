// Test support: a KubeConfig pointing at a loopback "cluster" that only nock answers, and a small stateful
// stand-in for the API server's Ingress endpoint (merge patch + resourceVersion precondition, as the real
// server does) for tests that need several writers.

import { createServer } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Ingress } from '../../src/k8s/ingress.js';

export const TOKEN = 'test-token';

/** A port nothing listens on after this returns; requests to it only ever reach nock. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Sends every HTTP request of the file to nock (no real connection), fails a test that left an expected
 * request unmade, and returns the base URL of the fake API server for `fakeKubeConfig`.
 */
export function useNockedApiServer(): () => string {
  let base = '';
  beforeAll(async () => {
    nock.disableNetConnect();
    base = `http://127.0.0.1:${await freePort()}`;
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, 'every expected request was made').toEqual([]);
  });
  afterAll(() => nock.enableNetConnect());
  return () => base;
}

export function fakeKubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'plugin', token: TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'plugin' }],
    currentContext: 'fake',
  });
  return kc;
}

export function ingressPath(namespace: string, name: string): string {
  return `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/${name}`;
}

export const MERGE_PATCH = 'application/merge-patch+json';

/** nock hands over bodies of content types it does not know as JSON (merge-patch+json) as text. */
export function jsonBody(body: unknown): unknown {
  return typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
}

/** RFC 7386 JSON merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType?: string;
  body?: unknown;
}

/**
 * One Ingress held in memory behind nock. GETs return it; PATCHes must be merge patches and carry
 * metadata.resourceVersion: a stale one gets 409 like the real server, a current one is applied and bumps it.
 */
export class FakeIngressStore {
  readonly requests: RecordedRequest[] = [];
  private waiting: Array<() => void> = [];

  constructor(
    readonly base: string,
    public ingress: Ingress,
  ) {}

  /** Registers exactly `gets` GETs and `patches` PATCHes; the first `holdGets` GETs wait until all have arrived. */
  intercept(opts: { gets: number; patches: number; holdGets?: number }): nock.Scope {
    const { namespace = 'default', name } = this.ingress.metadata;
    const path = ingressPath(namespace, name);
    const hold = opts.holdGets ?? 0;
    let seen = 0;
    const scope = nock(this.base);
    scope
      .get(path)
      .times(opts.gets)
      .reply(async () => {
        this.requests.push({ method: 'GET', path });
        seen++;
        const snapshot = structuredClone(this.ingress);
        if (seen <= hold) {
          // Interleave writers: nobody gets an answer until every held reader has read the same version.
          await new Promise<void>((resolve) => {
            this.waiting.push(resolve);
            if (this.waiting.length === hold) this.waiting.splice(0).forEach((r) => r());
          });
        }
        return [200, snapshot, { 'content-type': 'application/json' }];
      });
    scope
      .patch(path)
      .times(opts.patches)
      .reply(function (this: nock.ReplyFnContext, _uri, body) {
        return store.patch(path, this.req.headers['content-type'] as string | undefined, jsonBody(body));
      });
    const store = this;
    return scope;
  }

  private patch(path: string, contentType: string | undefined, body: unknown): [number, unknown, Record<string, string>] {
    this.requests.push({ method: 'PATCH', path, contentType, body });
    const json = { 'content-type': 'application/json' };
    if (contentType !== MERGE_PATCH) return [415, { kind: 'Status', code: 415, message: `unsupported ${contentType}` }, json];
    const rv = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (rv !== this.ingress.metadata.resourceVersion) {
      const message = `Operation cannot be fulfilled on ingresses.networking.k8s.io "${this.ingress.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`;
      return [409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message }, json];
    }
    const next = applyMergePatch(this.ingress, body) as Ingress;
    next.metadata.resourceVersion = String(Number(this.ingress.metadata.resourceVersion) + 1);
    this.ingress = next;
    return [200, next, json];
  }
}
