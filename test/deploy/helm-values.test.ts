// deploy/helm/values.yaml against the argo-rollouts chart version it names: every key it sets must exist in
// that version's values.yaml with the same type (a map where the chart has a list, as trafficRouterPlugins
// was before chart 2.38.0, renders a broken ConfigMap without any error from Helm). The chart's keys are a
// fixture transcribed from the chart (test/deploy/fixtures/, which says where from); Helm itself is not run.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadYaml } from '@kubernetes/client-node';
import { read, root } from './checks.js';

type KeyType = 'map' | 'object' | 'list' | 'string' | 'bool' | 'number' | 'null';

/** `path type` lines of a chart key fixture. */
function parseKeyFixture(text: string): Map<string, KeyType> {
  const keys = new Map<string, KeyType>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [path, type, ...rest] = line.trim().split(/\s+/);
    if (!path || !type || rest.length > 0 || !['map', 'object', 'list', 'string', 'bool', 'number', 'null'].includes(type)) {
      throw new Error(`bad fixture line: ${line}`);
    }
    keys.set(path, type as KeyType);
  }
  return keys;
}

function typeOf(v: unknown): Exclude<KeyType, 'object' | 'null'> | 'null' {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  return 'string';
}

/** Problems of `values` against the chart's keys: unknown keys and type mismatches, by dotted path. */
function checkValues(values: unknown, chart: Map<string, KeyType>, prefix: string[] = []): string[] {
  if (typeOf(values) !== 'map') return [`${prefix.join('.') || '(top)'}: not a map`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    const path = [...prefix, key].join('.');
    const want = chart.get(path);
    if (want === undefined) {
      problems.push(`${path}: not a key of the chart`);
      continue;
    }
    const got = typeOf(value);
    const fits =
      want === got ||
      (want === 'object' && got === 'map') ||
      (want === 'null' && got !== 'map' && got !== 'list') ||
      got === 'null';
    if (!fits) {
      problems.push(`${path}: the chart has a ${want}, the values set a ${got}`);
      continue;
    }
    // Below a free-form map or a list the chart takes anything (rendered with toYaml).
    if (want === 'map') problems.push(...checkValues(value, chart, [...prefix, key]));
  }
  return problems;
}

const valuesText = read('deploy/helm/values.yaml');
const targeted = /^# Chart version: (\d+\.\d+\.\d+) \(appVersion (v[\d.]+)\)/m.exec(valuesText);
const fixtureDir = join(root, 'test/deploy/fixtures');

describe('deploy/helm/values.yaml', () => {
  it('names the chart version it targets, and the install command uses it', () => {
    expect(targeted, 'a "# Chart version: X.Y.Z (appVersion vA.B.C)" line').not.toBeNull();
    expect(valuesText).toContain(`helm upgrade --install argo-rollouts argo/argo-rollouts --version ${targeted![1]} `);
  });

  it('has a key fixture for that chart version, saying where it came from', () => {
    const file = join(fixtureDir, `argo-rollouts-chart-${targeted![1]}-values-keys.txt`);
    expect(existsSync(file), file).toBe(true);
    const text = read(`test/deploy/fixtures/argo-rollouts-chart-${targeted![1]}-values-keys.txt`);
    expect(text).toMatch(/^# Where they came from: .*argo-helm/m);
    expect(text).toContain(`version ${targeted![1]} (appVersion ${targeted![2]})`);
    // Only fixtures of the targeted version: an old one left behind would be a second source of truth.
    expect(readdirSync(fixtureDir).filter((f) => f.startsWith('argo-rollouts-chart-'))).toEqual([`argo-rollouts-chart-${targeted![1]}-values-keys.txt`]);
  });

  it('sets only keys the chart has, with the chart’s types', () => {
    const chart = parseKeyFixture(read(`test/deploy/fixtures/argo-rollouts-chart-${targeted![1]}-values-keys.txt`));
    expect(chart.size).toBeGreaterThan(100);
    expect(checkValues(loadYaml(valuesText), chart)).toEqual([]);
  });
});

describe('the key check itself', () => {
  const chart = parseKeyFixture(
    ['controller map', 'controller.trafficRouterPlugins list', 'controller.image map', 'controller.image.tag string', 'serviceAccount map', 'serviceAccount.annotations object', 'nameOverride null'].join('\n'),
  );

  it.each<[string, unknown, string[]]>([
    ['a known key', { controller: { image: { tag: 'v1' } } }, []],
    ['anything below a free-form map', { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'x' } } }, []],
    ['anything in a list', { controller: { trafficRouterPlugins: [{ name: 'a', location: 'file:///x' }] } }, []],
    ['a scalar where the chart has no default', { nameOverride: 'x' }, []],
    ['an unknown key', { controller: { trafficRouterPlugin: [] } }, ['controller.trafficRouterPlugin: not a key of the chart']],
    ['an unknown nested key', { controller: { image: { digest: 'sha256:x' } } }, ['controller.image.digest: not a key of the chart']],
    // The values file of charts before 2.38.0 (and of this repository before it targeted 2.41.0).
    ['a map where the chart has a list', { controller: { trafficRouterPlugins: { trafficRouterPlugins: '- name: a' } } }, ['controller.trafficRouterPlugins: the chart has a list, the values set a map']],
    ['a scalar where the chart has a map', { controller: { image: 'quay.io/x' } }, ['controller.image: the chart has a map, the values set a string']],
  ])('%s', (_name, values, problems) => {
    expect(checkValues(values, chart)).toEqual(problems);
  });
});
