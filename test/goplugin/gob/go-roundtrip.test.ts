// Against real Go (skipped when `go` is not installed; CI has it): the committed fixtures must still be
// what test/goplugin/gobgen generates, and Go's own decoder (into Argo's reply types) must read every
// reply the TypeScript encoder writes.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GobDecoder, GobEncoder, type GobValue } from '../../../src/goplugin/gob/index.js';
import { rolloutArgConverters } from '../../../src/goplugin/args.js';
import { pluginMethods } from '../../../src/goplugin/dispatch.js';
import { serveNetRpc } from '../../../src/goplugin/netrpc/server.js';
import { pluginArgsFromGob } from '../../../src/goplugin/rollout-json.js';
import { createNoopRouter } from '../../../src/plugin/noop-router.js';
import { duplexPair, silentLogger, TestRpcClient } from '../fixtures.js';
import { canonical, decodeChunks, normaliseGo, randomChunks, vector, type Vector } from './fixtures.js';

const genDir = new URL('../gobgen/', import.meta.url).pathname;
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const haveGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!haveGo)('gob against Go', () => {
  let dir = '';
  let bin = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gobgen-'));
    bin = join(dir, 'gobgen');
    // First build of Argo's module tree takes minutes on a cold cache; later runs hit Go's build cache.
    execFileSync('nice', ['go', 'build', '-o', bin, '.'], { cwd: genDir, stdio: ['ignore', 'ignore', 'inherit'] });
  }, 900_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (mode: string, input?: string): string =>
    execFileSync(bin, mode.split(' '), { cwd: genDir, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

  it('fixtures/vectors.json is still what Go generates', () => {
    const fresh = JSON.parse(run('gen')) as Vector[];
    const committed = JSON.parse(fixture('vectors.json')) as Vector[];
    expect(fresh.map((v) => v.name)).toEqual(committed.map((v) => v.name));
    for (const [i, v] of fresh.entries()) {
      const old = committed[i]!;
      expect(v.deterministic, v.name).toBe(old.deterministic);
      expect(v.values.map(normaliseGo), v.name).toEqual(old.values.map(normaliseGo));
      if (v.deterministic) {
        expect(v.hex, v.name).toBe(old.hex);
      } else {
        // Map entries come in random order; the bytes differ, the decoded values must not.
        expect(v.hex.length, v.name).toBe(old.hex.length);
        expect(decodeChunks([Buffer.from(v.hex, 'hex')]).map(canonical), v.name).toEqual(v.values.map(normaliseGo));
      }
    }
  });

  it.each(['json-names.json', 'rollout.json'])('fixtures/%s is still what Go generates', (name) => {
    expect(JSON.parse(run(name === 'json-names.json' ? 'jsonnames' : 'rolloutjson'))).toEqual(JSON.parse(fixture(name)));
  });

  it.each([40, 4000])('SetWeight and VerifyWeight with a %i-container Rollout (yamux-sized chunks) matches Go', (containers) => {
    const v = JSON.parse(run(`big ${containers}`)) as Vector;
    const bytes = Buffer.from(v.hex, 'hex');
    const dec = new GobDecoder();
    const chunks = randomChunks(bytes, containers, 64 * 1024);
    // Time each call separately: the first also carries every type definition, the second none.
    const times: number[] = [];
    const got: GobValue[] = [];
    let t0 = performance.now();
    for (const c of chunks) {
      dec.feed(c);
      for (let x = dec.next(); x !== undefined; x = dec.next()) {
        got.push(x);
        if (got.length % 2 === 0) {
          times.push(performance.now() - t0);
          t0 = performance.now();
        }
      }
    }
    console.log(`${v.name}: ${bytes.length} bytes for two calls; first ${times[0]!.toFixed(1)} ms, second ${times[1]!.toFixed(1)} ms`);
    expect(got.map(canonical)).toEqual(v.values.map(normaliseGo));
    expect(dec.bufferedBytes).toBe(0);
    const args = pluginArgsFromGob(got[1]!, 'SetWeightAndVerifyWeightArgs');
    expect((args.rollout.spec.template as { spec: { containers: unknown[] } }).spec.containers).toHaveLength(containers);
    if (containers > 1000) expect(bytes.length / 2).toBeGreaterThan(3 * 1024 * 1024);
  }, 120_000);

  it('Go decodes every reply the encoder writes, on one stream, into Argo and net/rpc types', () => {
    // Request shares the default id 65 with Response; one stream needs them apart.
    const enc = new GobEncoder({ typeIds: { Request: 90 } });
    const items: Array<[kind: string, bytes: Buffer, want: unknown]> = [
      ['response', enc.encodeResponse({ ServiceMethod: 'Plugin.InitPlugin', Seq: 0 }), { ServiceMethod: 'Plugin.InitPlugin', Seq: 0, Error: '' }],
      ['rpcerror', enc.encodeRpcError(''), { ErrorString: '' }],
      ['response', enc.encodeResponse({ ServiceMethod: 'Plugin.SetWeight', Seq: 2n ** 64n - 1n }), { ServiceMethod: 'Plugin.SetWeight', Seq: 18446744073709551615n, Error: '' }],
      ['rpcerror', enc.encodeRpcError('ingress "x" not found: ünïcødé ✓'), { ErrorString: 'ingress "x" not found: ünïcødé ✓' }],
      ['verify', enc.encodeVerifyWeightResponse(0), { Verified: 0, Err: { ErrorString: '' } }],
      ['verify', enc.encodeVerifyWeightResponse(1), { Verified: 1, Err: { ErrorString: '' } }],
      ['verify', enc.encodeVerifyWeightResponse(2, 'not implemented'), { Verified: 2, Err: { ErrorString: 'not implemented' } }],
      // Argo master's GetWeightUpdateDeadline reply (gobgen declares the type): a nil *time.Time stays nil
      // (a zero time would print as "0001-01-01T00:00:00Z").
      ['deadline', enc.encodeWeightUpdateDeadlineResponse(), { Deadline: null, Err: { ErrorString: '' } }],
      ['deadline', enc.encodeWeightUpdateDeadlineResponse('boom'), { Deadline: null, Err: { ErrorString: 'boom' } }],
      ['string', enc.encodeString('ALB'), 'ALB'],
      ['string', enc.encodeString(''), ''],
      ['uint32', enc.encodeUint(1), 1],
      ['uint32', enc.encodeUint(4294967295), 4294967295],
      ['response', enc.encodeResponse({ ServiceMethod: 'Plugin.Nope', Seq: 5, Error: "rpc: can't find method Plugin.Nope" }), { ServiceMethod: 'Plugin.Nope', Seq: 5, Error: "rpc: can't find method Plugin.Nope" }],
      ['empty', enc.encodeEmptyStruct(), {}],
      ['empty', enc.encodeEmptyStruct(), {}],
      ['bool', enc.encodeBool(true), true],
      ['any', enc.encodeNilInterface(), null],
      ['request', enc.encodeRequest({ ServiceMethod: 'Control.Ping', Seq: 300 }), { ServiceMethod: 'Control.Ping', Seq: 300 }],
    ];
    const input = JSON.stringify({ hex: Buffer.concat(items.map((i) => i[1])).toString('hex'), kinds: items.map((i) => i[0]) });
    // Go prints uint64 beyond 2^53 as a bare JSON number; keep it exact.
    const out = run('decode', input).replace(/18446744073709551615/g, '"18446744073709551615"');
    const got = JSON.parse(out) as unknown[];
    const want = items.map((i) => JSON.parse(JSON.stringify(i[2], (_k, v) => (typeof v === 'bigint' ? String(v) : v))));
    expect(got).toEqual(want);
  });

  it('Go decodes a GetWeightUpdateDeadline reply that opens its stream (our definition order: fields first)', () => {
    const enc = new GobEncoder();
    const input = JSON.stringify({ hex: enc.encodeWeightUpdateDeadlineResponse().toString('hex'), kinds: ['deadline'] });
    expect(JSON.parse(run('decode', input))).toEqual([{ Deadline: null, Err: { ErrorString: '' } }]);
  });

  it('Argo master\'s GetWeightUpdateDeadline and ClearWeightUpdateDeadline, as Go sends them: answered, and Go decodes the replies', async () => {
    const [clientSide, serverSide] = duplexPair();
    const server = serveNetRpc(serverSide, {
      methods: pluginMethods(createNoopRouter(), rolloutArgConverters),
      callTimeoutMs: 30_000,
      logger: silentLogger,
      onStop: () => {},
    });
    const client = new TestRpcClient(clientSide);
    client.writeRaw(Buffer.from(vector('argo master weight-update deadline calls').hex, 'hex'));
    await client.waitForReplies(2);
    server.stop();
    const input = JSON.stringify({ hex: Buffer.concat(client.raw).toString('hex'), kinds: ['response', 'deadline', 'response', 'rpcerror'] });
    const got = JSON.parse(run('decode', input)) as unknown[];
    // Replies come in completion order; both are immediate, so in request order here, but match by Seq anyway.
    const bySeq = new Map([0, 2].map((i) => [(got[i] as { Seq: number }).Seq, [got[i], got[i + 1]]]));
    expect(bySeq.get(8)).toEqual([{ ServiceMethod: 'Plugin.GetWeightUpdateDeadline', Seq: 8, Error: '' }, { Deadline: null, Err: { ErrorString: '' } }]);
    expect(bySeq.get(9)).toEqual([{ ServiceMethod: 'Plugin.ClearWeightUpdateDeadline', Seq: 9, Error: '' }, { ErrorString: '' }]);
  });

  it('Go refuses a reply whose type does not match (the check the golden tests guard against)', () => {
    const enc = new GobEncoder();
    const input = JSON.stringify({ hex: enc.encodeString('x').toString('hex'), kinds: ['rpcerror'] });
    const res = spawnSync(bin, ['decode'], { cwd: genDir, input, encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/type mismatch/);
  });
});
