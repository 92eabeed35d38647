// Random, truncated and mutated input, in random chunks: the decoder either returns values, returns
// "not yet", or throws a GobError. Nothing else escapes, and each call ends (a value consumes at least
// one byte, so a stream of n bytes yields at most n values).

import { describe, expect, it } from 'vitest';
import { GobDecoder, GobError } from '../../../src/goplugin/gob/index.js';
import { canonical, decodeChunks, randomChunks, vector, vectors } from './fixtures.js';

/** xorshift32: deterministic, so a failure names the seed that reproduces it. */
function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

type Outcome = { kind: 'ok'; values: number } | { kind: 'gob-error' };

/** Feeds `bytes` in random chunks; any non-GobError exception fails the test. */
function run(bytes: Uint8Array, seed: number, options = {}): Outcome {
  const dec = new GobDecoder({ maxMessageBytes: 1 << 20, ...options });
  let values = 0;
  try {
    for (const chunk of randomChunks(bytes, seed, 64)) {
      dec.feed(chunk);
      for (let v = dec.next(); v !== undefined; v = dec.next()) {
        values++;
        if (values > bytes.length) throw new Error('more values than bytes: decoder is not consuming input');
      }
    }
  } catch (e) {
    if (e instanceof GobError) return { kind: 'gob-error' };
    throw new Error(`seed ${seed}: ${String(e)}`, { cause: e });
  }
  return { kind: 'ok', values };
}

describe('fuzz', () => {
  it('random bytes: only GobErrors', () => {
    const next = rng(1);
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const len = 1 + Math.floor(next() * 300);
      const b = new Uint8Array(len);
      for (let k = 0; k < len; k++) b[k] = Math.floor(next() * 256);
      if (run(b, i + 1).kind === 'gob-error') errors++;
    }
    expect(errors).toBeGreaterThan(0);
  });

  it('random bytes after a valid prefix of type definitions: only GobErrors', () => {
    // Valid definitions make the random part reach the value machine, not just the definition parser.
    const prefix = Buffer.from(vector('struct with every kind').hex, 'hex');
    const next = rng(2);
    for (let i = 0; i < 1000; i++) {
      const tail = new Uint8Array(1 + Math.floor(next() * 200));
      for (let k = 0; k < tail.length; k++) tail[k] = Math.floor(next() * 256);
      // A message header that claims the tail, so it is decoded rather than waited for.
      const b = Buffer.concat([prefix, Buffer.from([tail.length < 128 ? tail.length : 0]), tail]);
      run(b, i + 7, { maxDepth: 20 });
    }
  });

  it.each(vectors.map((v) => v.name))('mutated %s: only GobErrors', (name) => {
    const base = Buffer.from(vector(name).hex, 'hex');
    const next = rng(name.length * 7919);
    const rounds = base.length > 4096 ? 150 : 600;
    for (let i = 0; i < rounds; i++) {
      const b = Buffer.from(base);
      const edits = 1 + Math.floor(next() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * b.length);
        b[at] = next() < 0.5 ? Math.floor(next() * 256) : b[at]! ^ (1 << Math.floor(next() * 8));
      }
      const cut = next() < 0.3 ? Math.floor(next() * b.length) : b.length;
      run(b.subarray(0, cut), i + 1);
    }
  });

  it.each(vectors.map((v) => v.name))('every prefix of %s decodes to a prefix of its values, without error', (name) => {
    const v = vector(name);
    const b = Buffer.from(v.hex, 'hex');
    const all = decodeChunks([b]).map(canonical);
    const step = Math.max(1, Math.floor(b.length / 400));
    for (let k = 0; k <= b.length; k += step) {
      const got = decodeChunks([b.subarray(0, k)]).map(canonical);
      expect(got, `prefix ${k}`).toEqual(all.slice(0, got.length));
    }
  });
});
