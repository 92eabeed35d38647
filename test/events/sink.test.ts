// The Event write at the HTTP wire level: a real client-node KubeConfig and CoreV1Api, with nock standing in
// for the API server (no network connection is allowed; every expected request must be made).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { fakeKubeConfig } from '../k8s/fake-cluster.js';
import { createEventSink, kubeEventWriter } from '../../src/events/sink.js';
import { buildEvent, MAX_MESSAGE_LENGTH } from '../../src/events/event-object.js';
import { createMetrics } from '../../src/metrics.js';
import type { Rollout } from '../../src/core/rollout.js';
import type { RolloutEvent } from '../../src/plugin/hooks.js';

const API = 'http://127.0.0.1:6443';


const rollout: Rollout = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'web', namespace: 'shop', uid: '0b6c5d7e-1111-2222-3333-444455556666', resourceVersion: '812' },
  spec: { strategy: { canary: {} } },
};

const unverified: RolloutEvent = {
  type: 'Warning',
  reason: 'ALBPluginWeightUnverified',
  message: 'Service app-canary (TargetGroup arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/k8s-x/abc) not verified: canary weight 20 not yet set (current: 0)',
};
const verified: RolloutEvent = {
  type: 'Normal',
  reason: 'ALBPluginWeightVerified',
  message: 'Service app-canary (TargetGroup arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/k8s-x/abc) verified: canary weight 20 set',
};

const NOW = new Date('2026-11-21T14:05:06.789Z');

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('buildEvent', () => {
  it('points at the Rollout and names the Event like client-go does', () => {
    const ev = buildEvent(rollout, unverified, NOW, 'argo-rollouts-5f7d9-abcde', 3);
    expect(ev).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `web.${(BigInt(NOW.getTime()) * 1_000_000n + 3n).toString(16)}`, namespace: 'shop' },
      involvedObject: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        name: 'web',
        namespace: 'shop',
        uid: '0b6c5d7e-1111-2222-3333-444455556666',
        resourceVersion: '812',
      },
      type: 'Warning',
      reason: 'ALBPluginWeightUnverified',
      message: unverified.message,
      source: { component: 'rollouts-plugin-trafficrouter-alb' },
      reportingComponent: 'rollouts-plugin-trafficrouter-alb',
      reportingInstance: 'argo-rollouts-5f7d9-abcde',
      firstTimestamp: '2026-11-21T14:05:06Z',
      lastTimestamp: '2026-11-21T14:05:06Z',
      count: 1,
    });
  });

  it('truncates long messages and defaults the namespace', () => {
    const ev = buildEvent(
      { metadata: { name: 'web' }, spec: { strategy: {} } },
      { type: 'Warning', reason: 'WeightVerifyError', message: 'x'.repeat(5000) },
      NOW,
      'i',
    );
    expect(ev.message).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(ev.message.endsWith('...')).toBe(true);
    expect(ev.metadata.namespace).toBe('default');
  });
});

describe('event sink over the Kubernetes API', () => {
  it('POSTs one Event per state change, and none for repeats', async () => {
    const posted: Array<Record<string, unknown>> = [];
    const scope = nock(API)
      .post('/api/v1/namespaces/shop/events', (body) => {
        posted.push(body as Record<string, unknown>);
        return true;
      })
      .matchHeader('authorization', 'Bearer test-token')
      .times(2)
      .reply(201, (_uri, body) => body);
    const metrics = createMetrics();
    const sink = createEventSink({
      write: kubeEventWriter(fakeKubeConfig(API)),
      now: () => NOW,
      instance: 'pod-1',
      onEmitted: (reason) => metrics.eventsEmitted.inc({ reason }),
    });
    for (const e of [unverified, unverified, unverified, verified, verified]) sink.emit(rollout, e);
    await sink.flush();
    scope.done();
    expect(posted.map((b) => [b.reason, b.type])).toEqual([
      ['ALBPluginWeightUnverified', 'Warning'],
      ['ALBPluginWeightVerified', 'Normal'],
    ]);
    expect(posted[0]).toMatchObject({
      involvedObject: { kind: 'Rollout', name: 'web', namespace: 'shop', uid: rollout.metadata.uid },
      firstTimestamp: '2026-11-21T14:05:06Z',
      reportingInstance: 'pod-1',
    });
    // Two events in the same millisecond still get distinct names.
    expect(new Set(posted.map((b) => (b.metadata as { name: string }).name)).size).toBe(2);
    const text = await metrics.registry.metrics();
    expect(text).toContain('alb_plugin_events_emitted_total{reason="ALBPluginWeightUnverified"} 1');
    expect(text).toContain('alb_plugin_events_emitted_total{reason="ALBPluginWeightVerified"} 1');
  });

  it('does not throw when the API refuses, logs why, and retries the same state next time', async () => {
    const scope = nock(API)
      .post('/api/v1/namespaces/shop/events')
      .reply(403, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message: 'events is forbidden: User "system:serviceaccount:argo-rollouts:argo-rollouts" cannot create resource "events"',
      })
      .post('/api/v1/namespaces/shop/events')
      .reply(201, {});
    const logged: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => logged.push(msg) } as unknown as import('../../src/logger.js').Logger;
    const sink = createEventSink({ write: kubeEventWriter(fakeKubeConfig(API)), logger, now: () => NOW });
    expect(() => sink.emit(rollout, unverified)).not.toThrow();
    await sink.flush();
    expect(logged).toEqual(['could not record Event on the Rollout (grant create on events in its namespace)']);
    sink.emit(rollout, unverified);
    await sink.flush();
    scope.done();
  });

  it('starts over for a Rollout it was told to forget', async () => {
    const scope = nock(API).post('/api/v1/namespaces/shop/events').times(2).reply(201, {});
    const sink = createEventSink({ write: kubeEventWriter(fakeKubeConfig(API)), now: () => NOW });
    sink.emit(rollout, unverified);
    sink.forget(rollout);
    sink.emit(rollout, unverified);
    await sink.flush();
    scope.done();
  });
});
