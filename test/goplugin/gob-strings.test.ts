// The gob decoder remembers recently decoded strings (a process-wide, bounded table checked byte for
// byte). These tests aim at what such a table gets wrong: near-identical strings that hash alike, strings
// evicted and decoded again, UTF-8 (valid and not), and every length around the table's limits. Each
// string is checked against Buffer's own UTF-8 decoding of the same bytes.

import { describe, expect, it } from 'vitest';
import { GobDecoder } from '../../src/goplugin/gob/index.js';

/** gob's unsigned integer encoding. */
function uint(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Buffer.from([256 - bytes.length, ...bytes]);
}

/** One top-level gob message holding a `string` (predefined type id 6, sent as the signed int 12). */
function stringMessage(bytes: Buffer): Buffer {
  const body = Buffer.concat([uint(12), Buffer.from([0]), uint(bytes.length), bytes]);
  return Buffer.concat([uint(body.length), body]);
}

function decodeStrings(inputs: Buffer[]): unknown[] {
  const dec = new GobDecoder();
  dec.feed(Buffer.concat(inputs.map(stringMessage)));
  const out: unknown[] = [];
  for (let v = dec.next(); v !== undefined; v = dec.next()) out.push(v);
  return out;
}

const expected = (inputs: Buffer[]): string[] => inputs.map((b) => b.toString('utf8'));

describe('gob string decoding with the string table', () => {
  it.each([1, 12, 13, 14, 15, 16, 17, 31, 32, 33, 64, 95, 96, 97, 200, 5000])(
    'a %i-byte string and every one-byte variant of it, each decoded three times (a string is remembered on its second sighting)',
    (length) => {
      const base = Buffer.alloc(length);
      for (let i = 0; i < length; i++) base[i] = 0x41 + (i % 26);
      const inputs = [base];
      for (let i = 0; i < length && i < 200; i++) {
        const v = Buffer.from(base);
        v[i] = 0x30 + (i % 10);
        inputs.push(v);
      }
      const thrice = [...inputs, ...inputs, ...inputs];
      expect(decodeStrings(thrice)).toEqual(expected(thrice));
    },
  );

  it.each([
    ['multi-byte UTF-8', Buffer.from('ünïcødé-läbel-välue-€-😀-end', 'utf8')],
    ['invalid UTF-8 (becomes U+FFFD)', Buffer.concat([Buffer.from('prefix-valid-ascii-'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('-tail')])],
    ['a truncated sequence at the end', Buffer.concat([Buffer.from('sixteen-bytes-ok'), Buffer.from([0xe2, 0x82])])],
    ['NUL bytes', Buffer.from('a\u0000b\u0000c\u0000d\u0000e\u0000f\u0000g\u0000h', 'utf8')],
  ])('%s, decoded before and after an ASCII string of the same length', (_name, bytes) => {
    const ascii = Buffer.alloc(bytes.length, 0x61);
    const inputs = [bytes, ascii, bytes, ascii, bytes, ascii];
    expect(decodeStrings(inputs)).toEqual(expected(inputs));
  });

  it('stays right after far more distinct strings than the table holds (evictions), decoded again', () => {
    const inputs: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) inputs.push(Buffer.from(`value-${String(i).padStart(5, '0')}-of-a-typical-string`));
    const again = inputs.slice(0, 5000).reverse();
    const all = [...inputs, ...again, ...again, ...inputs.slice(15_000)];
    expect(decodeStrings(all)).toEqual(expected(all));
  });

  it('is shared by decoders (one table per process) without mixing their values up', () => {
    const a = [Buffer.from('shared-name-for-both-decoders'), Buffer.from('only-in-the-first-decoder')];
    const b = [Buffer.from('shared-name-for-both-decoders'), Buffer.from('only-in-the-second-decodr')];
    for (let i = 0; i < 3; i++) {
      expect(decodeStrings(a)).toEqual(expected(a));
      expect(decodeStrings(b)).toEqual(expected(b));
    }
  });
});
