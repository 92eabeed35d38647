// The metric-provider replies against real Go (skipped when `go` is not installed; CI has it): the committed
// metric fixtures must still be what test/goplugin/gobgen generates, and Go's decoder, reading into Argo's
// v1alpha1.Measurement and map[string]string as Argo's client does, must read what the sidecar answers to
// Argo's own calls, times to the nanosecond.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GobEncoder } from '../../../src/goplugin/gob/index.js';
import { measurementToGo } from '../../../src/goplugin/analysis-json.js';
import { metricProviderMethods } from '../../../src/goplugin/metric-dispatch.js';
import { serveNetRpc } from '../../../src/goplugin/netrpc/server.js';
import type { MetricProvider } from '../../../src/plugin/metric-provider.js';
import { duplexPair, silentLogger, TestRpcClient } from '../fixtures.js';
import { canonical, decodeChunks, normaliseGo, type Vector } from './fixtures.js';

const genDir = new URL('../gobgen/', import.meta.url).pathname;
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const haveGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveGo)('metric-provider gob against Go', () => {
  let dir = '';
  let bin = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gobgen-metric-'));
    bin = join(dir, 'gobgen');
    execFileSync('nice', ['go', 'build', '-o', bin, '.'], { cwd: genDir, stdio: ['ignore', 'ignore', 'inherit'] });
  }, 900_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (mode: string, input?: string): string => execFileSync(bin, [mode], { cwd: genDir, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

  it('fixtures/metric-vectors.json is still what Go generates', () => {
    const fresh = JSON.parse(run('metricgen')) as Vector[];
    const committed = JSON.parse(fixture('metric-vectors.json')) as Vector[];
    expect(fresh.map((v) => v.name)).toEqual(committed.map((v) => v.name));
    for (const [i, v] of fresh.entries()) {
      const old = committed[i]!;
      expect(v.values.map(normaliseGo), v.name).toEqual(old.values.map(normaliseGo));
      if (v.deterministic) expect(v.hex, v.name).toBe(old.hex);
      else expect(decodeChunks([Buffer.from(v.hex, 'hex')]).map(canonical), v.name).toEqual(v.values.map(normaliseGo));
    }
  });

  it.each([
    ['metric-json-names.json', 'metricjsonnames'],
    ['analysisrun.json', 'analysisrunjson'],
  ])('fixtures/%s is still what Go generates', (name, mode) => {
    expect(JSON.parse(run(mode))).toEqual(JSON.parse(fixture(name)));
  });

  it('Go decodes Measurement and map replies into v1alpha1.Measurement and map[string]string', () => {
    const enc = new GobEncoder();
    const full = measurementToGo({
      phase: 'Successful',
      message: 'ünïcødé ✓',
      startedAt: '2026-03-04T05:11:32.123456789Z',
      finishedAt: '2026-03-04T07:11:33+02:00',
      value: '0.002',
      metadata: { requests: '1200', empty: '' },
      resumeAt: '0001-01-01T00:00:00Z',
    });
    const items: Array<[kind: string, bytes: Buffer, want: unknown]> = [
      ['rpcerror', enc.encodeRpcError(''), { ErrorString: '' }],
      [
        'measurement',
        enc.encodeMeasurement(full),
        {
          phase: 'Successful',
          message: 'ünïcødé ✓',
          value: '0.002',
          metadata: { requests: '1200', empty: '' },
          metadataIsNil: false,
          startedAt: '2026-03-04T05:11:32.123456789Z',
          finishedAt: '2026-03-04T05:11:33Z',
          resumeAt: '0001-01-01T00:00:00Z',
        },
      ],
      [
        'measurement',
        enc.encodeMeasurement({ Phase: 'Running' }),
        { phase: 'Running', message: '', value: '', metadata: null, metadataIsNil: true, startedAt: null, finishedAt: null, resumeAt: null },
      ],
      [
        'measurement',
        enc.encodeMeasurement({ Phase: 'Error', Metadata: {} }),
        { phase: 'Error', message: '', value: '', metadata: {}, metadataIsNil: false, startedAt: null, finishedAt: null, resumeAt: null },
      ],
      ['stringmap', enc.encodeStringMap({ resolvedQuery: 'q', error: 'e ✓' }), { map: { resolvedQuery: 'q', error: 'e ✓' }, isNil: false }],
      // A top-level map is never nil on the wire: Go's client gets an empty map, as from a Go plugin.
      ['stringmap', enc.encodeStringMap({}), { map: {}, isNil: false }],
    ];
    const input = JSON.stringify({ hex: Buffer.concat(items.map((i) => i[1])).toString('hex'), kinds: items.map((i) => i[0]) });
    expect(JSON.parse(run('decode', input))).toEqual(items.map((i) => i[2]));
  });

  it("answers Argo's own call stream, and Go decodes every reply into Argo's reply types", async () => {
    const seen: string[] = [];
    const provider: MetricProvider = {
      initPlugin: async () => void seen.push('init'),
      type: () => 'ALBAnalysisPlugin',
      run: async (r, m) => {
        seen.push(`run ${r.metadata.name} ${m.name}`);
        return { phase: 'Running', startedAt: '2026-03-04T05:12:00Z', resumeAt: '2026-03-04T05:12:15.5Z', metadata: { queryId: 'q-3' } };
      },
      resume: async (_r, _m, ms) => {
        seen.push(`resume ${ms.metadata!.queryId}`);
        return { ...ms, phase: 'Successful', finishedAt: '2026-03-04T05:12:16Z', value: '0.001' };
      },
      terminate: async () => {
        throw new Error('CloudWatch query q-0002 could not be cancelled');
      },
      garbageCollect: async (_r, _m, limit) => void seen.push(`gc ${limit}`),
      getMetadata: (m) => ({ metric: m.name }),
    };
    const [clientSide, serverSide] = duplexPair();
    const server = serveNetRpc(serverSide, { methods: metricProviderMethods(provider, () => Date.UTC(2026, 2, 4, 5, 12, 30)), callTimeoutMs: 30_000, logger: silentLogger, onStop: () => {} });
    const client = new TestRpcClient(clientSide);
    client.writeRaw(Buffer.from((JSON.parse(fixture('metric-vectors.json')) as Vector[])[0]!.hex, 'hex'));
    await client.waitForReplies(7);
    server.stop();
    const kinds = ['rpcerror', 'string', 'measurement', 'measurement', 'measurement', 'rpcerror', 'stringmap'];
    const order = (await client.waitForReplies(7)).map((r) => Number((r.header as { Seq?: number }).Seq ?? 0));
    const input = JSON.stringify({ hex: Buffer.concat(client.raw).toString('hex'), kinds: order.flatMap((seq) => ['response', kinds[seq]!]) });
    const got = JSON.parse(run('decode', input)) as unknown[];
    const bySeq = new Map(order.map((seq, i) => [seq, [got[2 * i], got[2 * i + 1]]]));
    for (const [seq, [head]] of bySeq) expect(head).toMatchObject({ Seq: seq, Error: '' });
    expect(bySeq.get(0)![1]).toEqual({ ErrorString: '' });
    expect(bySeq.get(1)![1]).toBe('ALBAnalysisPlugin');
    expect(bySeq.get(2)![1]).toMatchObject({ phase: 'Running', startedAt: '2026-03-04T05:12:00Z', resumeAt: '2026-03-04T05:12:15.5Z', finishedAt: null, metadata: { queryId: 'q-3' } });
    expect(bySeq.get(3)![1]).toMatchObject({ phase: 'Successful', startedAt: '2026-03-04T05:11:32Z', finishedAt: '2026-03-04T05:12:16Z', value: '0.001', metadata: { queryId: 'q-0002' } });
    // The provider threw: phase Error with its message, the measurement Argo sent kept (start to the
    // nanosecond, value, metadata), finishedAt it already had.
    expect(bySeq.get(4)![1]).toEqual({
      phase: 'Error',
      message: 'CloudWatch query q-0002 could not be cancelled',
      startedAt: '2026-03-04T05:11:32.123456789Z',
      finishedAt: '2026-03-04T05:11:33Z',
      resumeAt: '1999-12-31T23:59:59.999999999Z',
      value: '0.002',
      metadata: { requests: '1200' },
      metadataIsNil: false,
    });
    expect(bySeq.get(5)![1]).toEqual({ ErrorString: '' });
    expect(bySeq.get(6)![1]).toEqual({ map: { metric: 'alb-5xx-rate' }, isNil: false });
    expect(seen).toEqual(['init', 'run checkout-7d9f8c6b5-17-2 alb-5xx-rate', 'resume q-0002', 'gc 10']);
  });
});
