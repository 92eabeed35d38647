import { describe, expect, it } from 'vitest';
import { actionKey, conditionKey, splitRouteKey } from '../../../src/modes/ingress/keys.js';
import {
  encodeManagedAnnotations,
  ManagedAnnotationsError,
  parseManagedAnnotations,
  withManagedKeys,
  withoutManagedKeys,
} from '../../../src/modes/ingress/managed.js';

describe('annotation keys (Argo TestALBActionAnnotationKey and friends)', () => {
  it.each([
    [actionKey('test.annotation', 'svc'), 'test.annotation/actions.svc'],
    [actionKey('test.annotation', 'root-svc'), 'test.annotation/actions.root-svc'],
    [actionKey('alb.ingress.kubernetes.io', 'root-svc'), 'alb.ingress.kubernetes.io/actions.root-svc'],
    [actionKey('alb.ingress.kubernetes.io', 'route'), 'alb.ingress.kubernetes.io/actions.route'],
    [conditionKey('alb.ingress.kubernetes.io', 'route'), 'alb.ingress.kubernetes.io/conditions.route'],
  ])('%s', (got, expected) => {
    expect(got).toBe(expected);
  });

  it.each([
    ['custom.prefix/actions.a.b', { kind: 'actions', name: 'a.b' }],
    ['alb.ingress.kubernetes.io/conditions.r', { kind: 'conditions', name: 'r' }],
    ['alb.ingress.kubernetes.io/scheme', undefined],
  ])('splitRouteKey(%s)', (key, expected) => {
    expect(splitRouteKey(key)).toEqual(expected);
  });
});

describe('managed-alb-annotations (Argo TestManagedALBAnnotations, TestAddManagedAnnotation)', () => {
  it('empty value is {} and prints as {}', () => {
    const m = parseManagedAnnotations('');
    expect(m.size).toBe(0);
    expect(encodeManagedAnnotations(m)).toBe('{}');
    expect(parseManagedAnnotations(undefined).size).toBe(0);
  });

  it.each([['invalid JSON', 'test'], ['a list', '["a"]'], ['a non-list entry', '{"ro":"key"}'], ['a non-string key', '{"ro":[1]}']])(
    'refuses %s', (_name, value) => {
      expect(() => parseManagedAnnotations(value)).toThrow(ManagedAnnotationsError);
    },
  );

  it('parses three keys and reads a null list as empty', () => {
    const m = parseManagedAnnotations('{"ro":["a","b","c"],"other":null}');
    expect(m.get('ro')).toEqual(['a', 'b', 'c']);
    expect(m.get('other')).toEqual([]);
  });

  it('adding actions.action1 and conditions.action1 to an empty map gives Argo\'s exact string', () => {
    const m = withManagedKeys(parseManagedAnnotations(''), 'argo-rollouts', [
      'alb.ingress.kubernetes.io/actions.action1',
      'alb.ingress.kubernetes.io/conditions.action1',
    ]);
    expect(encodeManagedAnnotations(m)).toBe(
      '{"argo-rollouts":["alb.ingress.kubernetes.io/actions.action1","alb.ingress.kubernetes.io/conditions.action1"]}',
    );
  });

  it('sorts Rollout names, keeps list order, adds each key once, keeps an emptied entry', () => {
    let m = parseManagedAnnotations('{"rollout-b":["k-b"]}');
    m = withManagedKeys(m, 'rollout-a', ['k2', 'k1']);
    m = withManagedKeys(m, 'rollout-a', ['k1', 'k3']);
    expect(encodeManagedAnnotations(m)).toBe('{"rollout-a":["k2","k1","k3"],"rollout-b":["k-b"]}');
    m = withoutManagedKeys(m, 'rollout-b', ['k-b']);
    expect(encodeManagedAnnotations(m)).toBe('{"rollout-a":["k2","k1","k3"],"rollout-b":[]}');
  });
});
