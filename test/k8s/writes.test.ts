import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { resourceOfPath, withWriteCounter, type KubernetesWriteVerb } from '../../src/k8s/writes.js';
import { kubeRequest, MERGE_PATCH } from '../../src/k8s/kube-api.js';
import { LightKubeConfig } from '../../src/k8s/kube-config.js';

describe('resourceOfPath', () => {
  it.each([
    ['/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web', 'ingresses'],
    ['/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status', 'rollouts/status'],
    ['/api/v1/namespaces/shop/events', 'events'],
    ['/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web?fieldManager=x', 'httproutes'],
    ['/api/v1/namespaces/shop', 'namespaces'],
    ['/apis/coordination.k8s.io/v1/namespaces/argo-rollouts/leases/lock', 'leases'],
    ['/', 'unknown'],
  ])('%s → %s', (path, resource) => {
    expect(resourceOfPath(path)).toBe(resource);
  });
});

describe('withWriteCounter', () => {
  afterEach(() => nock.cleanAll());

  it('counts the writes a generated client sends, and not its reads', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:6443', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const writes: Array<[KubernetesWriteVerb, string]> = [];
    withWriteCounter(kc, (verb, resource) => writes.push([verb, resource]));
    nock('http://127.0.0.1:6443')
      .get('/api/v1/namespaces/shop/events/e1').reply(200, { metadata: { name: 'e1' } })
      .post('/api/v1/namespaces/shop/events').reply(201, { metadata: { name: 'e2' } })
      .patch('/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status').reply(200, {});
    const core = kc.makeApiClient(CoreV1Api);
    await core.readNamespacedEvent({ namespace: 'shop', name: 'e1' });
    await core.createNamespacedEvent({ namespace: 'shop', body: { metadata: { name: 'e2' }, involvedObject: {} } });
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus({ group: 'argoproj.io', version: 'v1alpha1', namespace: 'shop', plural: 'rollouts', name: 'web', body: {} });
    expect(writes).toEqual([['create', 'events'], ['patch', 'rollouts/status']]);
    expect(nock.isDone()).toBe(true);
  });
});

describe('withWriteCounter on the sidecar’s own client', () => {
  afterEach(() => nock.cleanAll());

  it('counts the writes kube-api sends, and not its reads, with either kind of KubeAccess', async () => {
    const writes: Array<[KubernetesWriteVerb, string]> = [];
    const client = new KubeConfig();
    client.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:6443', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const light = new LightKubeConfig({ name: 'c', server: 'http://127.0.0.1:6443', skipTLSVerify: true }, { token: 't' }, 'x');
    for (const kc of [client, light]) withWriteCounter(kc, (verb, resource) => writes.push([verb, resource]));
    nock('http://127.0.0.1:6443')
      .get('/api/v1/namespaces/shop/events/e1').twice().reply(200, { metadata: { name: 'e1' } })
      .post('/api/v1/namespaces/shop/events').reply(201, {})
      .patch('/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status').reply(200, {});
    await kubeRequest(client, { path: '/api/v1/namespaces/shop/events/e1' });
    await kubeRequest(client, { method: 'POST', path: '/api/v1/namespaces/shop/events', body: {} });
    await kubeRequest(light, { path: '/api/v1/namespaces/shop/events/e1' });
    await kubeRequest(light, { method: 'PATCH', path: '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/web/status', body: {}, contentType: MERGE_PATCH });
    expect(writes).toEqual([['create', 'events'], ['patch', 'rollouts/status']]);
    expect(nock.isDone()).toBe(true);
  });
});
