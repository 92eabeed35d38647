// What the Rollout watch keeps of each Rollout (src/cleanup/watch.ts watchedCopy): everything the cleanup and
// the modes read, without the pod template, managedFields and kubectl's last-applied-configuration, frozen.
import { describe, expect, it } from 'vitest';
import { watchedCopy } from '../../src/cleanup/watch.js';
import type { Rollout } from '../../src/core/rollout.js';

describe('watchedCopy', () => {
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '7',
      labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}', 'example.com/keep': 'yes' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    },
    spec: {
      replicas: 3,
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } },
      strategy: { canary: { stableService: 'web-stable', canaryService: 'web-canary', trafficRouting: { plugins: { 'argoproj-labs/alb': { ingress: 'web' } } } } },
    },
    status: { canary: { weights: { canary: { weight: 10 } } }, currentPodHash: 'abc' },
  } as unknown as Rollout;

  it('drops the pod template, managedFields and the last-applied annotation, and keeps the rest', () => {
    const copy = watchedCopy(rollout) as unknown as Record<string, Record<string, unknown>>;
    expect(copy.spec).toEqual({ replicas: 3, strategy: (rollout.spec as unknown as Record<string, unknown>).strategy });
    expect(copy.metadata).toEqual({ name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '7', labels: { app: 'web' }, annotations: { 'example.com/keep': 'yes' } });
    expect(copy.status).toEqual(rollout.status);
    expect(copy.apiVersion).toBe('argoproj.io/v1alpha1');
  });

  it('is frozen all the way down (the informer and the cleanup share it); the input keeps its template', () => {
    const copy = watchedCopy(rollout);
    expect(Object.isFrozen(copy.spec.strategy)).toBe(true);
    expect(() => {
      (copy.metadata as { name: string }).name = 'other';
    }).toThrow(TypeError);
    expect((rollout.spec as unknown as Record<string, unknown>).template).toBeDefined();
  });

  it('a Rollout without annotations or spec stays without them', () => {
    const bare = watchedCopy({ metadata: { name: 'x', namespace: 'y' } } as unknown as Rollout);
    expect(bare).toEqual({ metadata: { name: 'x', namespace: 'y' } });
  });
});
