// The metric provider this build serves until the ALB analysis exists, driven through the go-plugin service
// with the calls Argo's client sent (test/goplugin/gob/fixtures/metric-vectors.json).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GobDecoder, GobEncoder, type GobValue, type GoMeasurement } from '../../src/goplugin/gob/index.js';
import { metricProviderMethods } from '../../src/goplugin/metric-dispatch.js';
import type { Reply } from '../../src/goplugin/netrpc/reply.js';
import { createUnconfiguredMetricProvider, METRIC_PROVIDER_TYPE } from '../../src/plugin/unconfigured-metric-provider.js';
import { canonical, decodeChunks, type Vector } from '../goplugin/gob/fixtures.js';

const vectors = JSON.parse(readFileSync(new URL('../goplugin/gob/fixtures/metric-vectors.json', import.meta.url), 'utf8')) as Vector[];
const calls = decodeChunks([Buffer.from(vectors.find((v) => v.name === 'argo metric-provider plugin stream')!.hex, 'hex')]);
const body = (i: number): GobValue => calls[2 * i + 1]!;
const NOW = Date.UTC(2026, 2, 4, 5, 12, 30);

function asGo(reply: Reply): unknown {
  const dec = new GobDecoder();
  dec.feed(new GobEncoder().encodeMeasurement((reply as { value: GoMeasurement }).value));
  return canonical(dec.next()!);
}

describe('createUnconfiguredMetricProvider', () => {
  const methods = metricProviderMethods(createUnconfiguredMetricProvider('argoproj-labs/alb-analysis', () => new Date(NOW)), () => NOW);
  const invoke = (method: string, b: GobValue) => Promise.resolve().then(() => methods.get(`Plugin.${method}`)!.handle(b));

  it.each([
    ['Run', 2],
    ['Resume', 3],
    ['Terminate', 4],
  ] as const)('%s: a finished measurement in phase Error saying ALB analysis is not configured in this build', async (verb, i) => {
    const reply = await invoke(verb, body(i));
    expect(reply.kind).toBe('measurement');
    expect(asGo(reply)).toEqual({
      Phase: 'Error',
      Message:
        'ALB analysis is not configured in this build of the sidecar: metric "alb-5xx-rate" names the plugin "argoproj-labs/alb-analysis", ' +
        'which has no measurements to take yet; remove the metric or use another provider',
      StartedAt: { $time: '2026-03-04T05:12:30Z' },
      FinishedAt: { $time: '2026-03-04T05:12:30Z' },
    });
  });

  it('lets Argo start the plugin and clean up: InitPlugin, Type, GarbageCollect and GetMetadata succeed', async () => {
    expect(await invoke('InitPlugin', null)).toEqual({ kind: 'rpcError', errorString: '' });
    expect(await invoke('Type', null)).toEqual({ kind: 'string', value: METRIC_PROVIDER_TYPE });
    expect(await invoke('GarbageCollect', body(5))).toEqual({ kind: 'rpcError', errorString: '' });
    expect(await invoke('GetMetadata', body(6))).toEqual({ kind: 'stringMap', value: {} });
  });
});
