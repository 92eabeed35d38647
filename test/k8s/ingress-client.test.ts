import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createIngressClient,
  IngressConflictError,
  IngressNotFoundError,
  KubernetesApiError,
  RequestCancelledError,
} from '../../src/k8s/ingress-client.js';
import { makeIngress } from '../modes/ingress/fixtures.js';
import { fakeKubeConfig, useNockedApiServer, ingressPath, jsonBody, MERGE_PATCH, TOKEN } from './fake-cluster.js';

let base: string;
const json = { 'content-type': 'application/json' };

const apiServer = useNockedApiServer();
beforeAll(() => {
  base = apiServer();
});

describe('createIngressClient at the HTTP level', () => {
  it('get: GET on the v1 Ingress path with the bearer token, returns the JSON as the server sent it', async () => {
    const ing = makeIngress({ weight: 10, resourceVersion: '42' });
    nock(base, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get(ingressPath('default', 'ingress'))
      .reply(200, { ...ing, metadata: { ...ing.metadata, creationTimestamp: '2026-01-01T00:00:00Z' } }, json);
    const got = await createIngressClient(fakeKubeConfig(base)).get('default', 'ingress');
    expect(got.metadata.resourceVersion).toBe('42');
    expect(got.metadata.annotations).toEqual(ing.metadata.annotations);
    expect(got.spec?.rules).toEqual(ing.spec?.rules);
    // The server's own bytes (client-node's generated client turned timestamps into Dates and back: .000Z).
    expect(got.metadata.creationTimestamp).toBe('2026-01-01T00:00:00Z');
  });

  it('get: 404 becomes IngressNotFoundError with the Kubernetes wording', async () => {
    nock(base)
      .get(ingressPath('default', 'missing'))
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'ingresses.networking.k8s.io "missing" not found' }, json);
    const err = await createIngressClient(fakeKubeConfig(base)).get('default', 'missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngressNotFoundError);
    expect((err as Error).message).toBe('ingress.networking.k8s.io "missing" not found');
  });

  it('patch: a merge patch naming only our keys, guarded by resourceVersion', async () => {
    const rules = [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { name: 'use-annotation' } } } }] } }];
    let seen: { contentType?: string; body?: unknown } = {};
    nock(base)
      .patch(ingressPath('ns1', 'ing'))
      .reply(function (this: nock.ReplyFnContext, _uri, body) {
        seen = { contentType: this.req.headers['content-type'] as string, body: jsonBody(body) };
        return [200, makeIngress({ name: 'ing', resourceVersion: '8' }), json];
      });
    const out = await createIngressClient(fakeKubeConfig(base)).patch('ns1', 'ing', '7', {
      annotations: { 'alb.ingress.kubernetes.io/actions.s': '{"Type":"forward"}', 'alb.ingress.kubernetes.io/conditions.r': null },
      rules,
    });
    expect(seen.contentType).toBe(MERGE_PATCH);
    expect(seen.body).toEqual({
      metadata: {
        resourceVersion: '7',
        annotations: { 'alb.ingress.kubernetes.io/actions.s': '{"Type":"forward"}', 'alb.ingress.kubernetes.io/conditions.r': null },
      },
      spec: { rules },
    });
    expect(out.metadata.resourceVersion).toBe('8');
  });

  it('patch: 409 becomes IngressConflictError and is counted', async () => {
    let conflicts = 0;
    nock(base)
      .patch(ingressPath('default', 'ingress'))
      .reply(409, { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }, json);
    const client = createIngressClient(fakeKubeConfig(base), { onConflict: () => conflicts++ });
    const err = await client.patch('default', 'ingress', '1', { annotations: { a: 'b' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngressConflictError);
    expect((err as Error).message).toBe('error patching alb ingress `ingress`: the object has been modified');
    expect(conflicts).toBe(1);
  });

  it.each([
    [403, 'ingresses.networking.k8s.io "ingress" is forbidden', /is forbidden \(grant the plugin get\/patch on networking.k8s.io ingresses/],
    [422, 'admission webhook "vingress.elbv2.k8s.aws" denied the request', /error patching alb ingress `ingress`: admission webhook/],
  ])('patch: %i keeps the server message', async (code, message, expected) => {
    nock(base).patch(ingressPath('default', 'ingress')).reply(code, { kind: 'Status', code, message }, json);
    const err = await createIngressClient(fakeKubeConfig(base)).patch('default', 'ingress', '1', { annotations: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubernetesApiError);
    expect((err as KubernetesApiError).status).toBe(code);
    expect((err as Error).message).toMatch(expected);
  });

  it('a request the server never answers is aborted with a clear error', async () => {
    nock(base).get(ingressPath('default', 'slow')).delay(30_000).reply(200, makeIngress({ name: 'slow' }), json);
    const client = createIngressClient(fakeKubeConfig(base), { requestTimeoutMs: 50 });
    await expect(client.get('default', 'slow')).rejects.toThrow('reading ingress default/slow: no answer from the Kubernetes API within 50 ms');
  });

  // Issue #12 item 3: inside a plugin call a request gets only what is left of the call's budget, and the
  // call's signal ends it.
  it('a request gets at most the time left in the call (timeoutMs), never more than the client\'s own timeout', async () => {
    nock(base).get(ingressPath('default', 'slow')).delay(30_000).reply(200, makeIngress({ name: 'slow' }), json);
    const client = createIngressClient(fakeKubeConfig(base), { requestTimeoutMs: 60_000 });
    await expect(client.get('default', 'slow', { timeoutMs: 40 })).rejects.toThrow(
      'reading ingress default/slow: no answer from the Kubernetes API within 40 ms',
    );
    await expect(client.patch('default', 'slow', '1', { annotations: {} }, { timeoutMs: 0 })).rejects.toThrow(
      /no time left before the plugin call's deadline \(--rpc-timeout-seconds\)/,
    );
  });

  it('the call\'s signal cancels a request in flight, and a request of a cancelled call is never sent', async () => {
    nock(base).get(ingressPath('default', 'slow')).delay(30_000).reply(200, makeIngress({ name: 'slow' }), json);
    const client = createIngressClient(fakeKubeConfig(base));
    const ac = new AbortController();
    const pending = client.get('default', 'slow', { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error('Plugin.SetWeight did not finish within 25s')), 20);
    const err = await pending;
    expect(err).toBeInstanceOf(RequestCancelledError);
    expect((err as Error).message).toBe('reading ingress default/slow cancelled: Plugin.SetWeight did not finish within 25s');

    // No interceptor: had the patch been sent, nock would refuse it with another error.
    const sent = await client.patch('default', 'ingress', '1', { annotations: { a: 'b' } }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(sent).toBeInstanceOf(RequestCancelledError);
  });

  it('GET and PATCH both carry the timeout without losing the merge-patch content type', async () => {
    let contentType: string | undefined;
    nock(base).get(ingressPath('default', 'ingress')).reply(200, makeIngress(), json);
    nock(base)
      .patch(ingressPath('default', 'ingress'))
      .reply(function (this: nock.ReplyFnContext) {
        contentType = this.req.headers['content-type'] as string;
        return [200, makeIngress(), json];
      });
    const client = createIngressClient(fakeKubeConfig(base), { requestTimeoutMs: 60_000 });
    await client.get('default', 'ingress');
    await client.patch('default', 'ingress', '1', { annotations: { a: 'b' } });
    expect(contentType).toBe(MERGE_PATCH);
  });
});
