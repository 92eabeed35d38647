// Hostile or broken input: every problem is a GobError with a message naming it, raised before anything
// is buffered past the limits, and the decoder stays dead afterwards.

import { describe, expect, it } from 'vitest';
import { GobDecoder, GobError, type GobDecoderOptions } from '../../../src/goplugin/gob/index.js';
import { hex } from './fixtures.js';

// struct "P" {X int; Y int} with id 65, the doc.go example type.
const POINT_DEF = '1b ff 81 03 01 01 01 "P" 01 ff 82 00 01 02 01 01 "X" 01 04 00 01 01 "Y" 01 04 00 00 00';

interface ErrorCase {
  name: string;
  bytes: string;
  error: RegExp;
  options?: GobDecoderOptions;
}

/** `[]T` where T is the slice itself (id 65), nested `depth` times. */
function nestedSlices(depth: number): string {
  const def = '0d ff 81 02 01 02 ff 82 00 01 ff 82 00 00';
  const value = '01 '.repeat(depth) + '00';
  const body = hex(`ff 82 00 ${value}`);
  return `${def} ${body.length.toString(16).padStart(2, '0')} ${body.toString('hex')}`;
}

const cases: ErrorCase[] = [
  {
    name: 'message longer than the limit (refused from its length prefix alone)',
    bytes: 'fd 01 00 00',
    options: { maxMessageBytes: 1024 },
    error: /message of 65536 bytes exceeds the limit of 1024 bytes/,
  },
  { name: 'message length prefix over 8 bytes', bytes: 'f7 00', error: /invalid message length prefix byte 0xf7/ },
  { name: 'empty message', bytes: '00', error: /empty message/ },
  { name: 'unknown type id', bytes: '03 ff 90 00', error: /unknown type id 72/ },
  { name: 'reserved type id for a value', bytes: '02 18 00', error: /unknown type id 12/ },
  { name: 'definition of a reserved id', bytes: '07 3f 03 01 02 02 00 00', error: /duplicate or reserved type id 32/ },
  { name: 'duplicate definition', bytes: `${POINT_DEF} ${POINT_DEF}`, error: /duplicate or reserved type id 65/ },
  { name: 'definition with two kinds', bytes: '0e ff 81 03 01 02 ff 82 00 00 01 01 02 00 00', error: /type definition 65 sets more than one kind/ },
  { name: 'empty definition', bytes: '03 ff 81 00', error: /type definition 65 is empty/ },
  { name: 'wireType field out of range', bytes: '04 ff 81 08 00', error: /field number 7 out of range in wireType/ },
  {
    name: 'field name that is not an exported Go name',
    bytes: '1d ff 81 03 01 01 01 "P" 01 ff 82 00 01 01 01 09 "__proto__" 01 04 00 00 00',
    error: /field named "__proto__", not an exported Go name/,
  },
  { name: 'field number beyond the struct', bytes: `${POINT_DEF} 05 ff 82 03 02 00`, error: /field number 2 out of range for struct P with 2 fields/ },
  { name: 'non-zero delta before a singleton', bytes: '03 04 01 02', error: /non-zero delta 1 before a singleton value of type int/ },
  { name: 'bytes left after a value', bytes: '04 04 00 02 02', error: /1 bytes left in the message after a complete value/ },
  { name: 'data after a top-level definition', bytes: POINT_DEF.replace(/^1b/, '1c') + ' 00', error: /extra data in the message after a type definition/ },
  { name: 'uint prefix of 9 bytes inside a value', bytes: '03 04 00 f7', error: /invalid unsigned integer prefix byte 0xf7/ },
  { name: 'integer running past the message', bytes: '04 04 00 fe 01', error: /unsigned integer of 2 bytes runs past the end of the message/ },
  { name: 'string running past the message', bytes: '05 0c 00 05 61 62', error: /string of 5 bytes runs past the end of the message/ },
  { name: 'struct without its terminator', bytes: `${POINT_DEF} 04 ff 82 01 02`, error: /unexpected end of message/ },
  {
    name: 'array with the wrong element count',
    bytes: '0e ff 81 01 01 02 ff 82 00 01 04 01 06 00 00 05 ff 82 00 02 02',
    error: /array of type \(anonymous\) has 2 elements, its type says 3/,
  },
  { name: 'values nested deeper than the limit', bytes: nestedSlices(20), options: { maxDepth: 10 }, error: /nested deeper than 10 levels/ },
  { name: 'more type definitions than allowed', bytes: `${POINT_DEF} ${POINT_DEF.replace('ff 81', 'ff 83')}`, options: { maxTypes: 1 }, error: /more than 1 type definitions/ },
  { name: 'count beyond 2^53', bytes: '0c ff 81 02 01 02 ff 82 00 01 04 00 00 0c ff 82 00 f8 ff ff ff ff ff ff ff ff', error: /count 18446744073709551615 is too large/ },
];

describe('GobDecoder refuses', () => {
  it.each(cases)('$name', ({ bytes, error, options }) => {
    const dec = new GobDecoder(options);
    dec.feed(hex(bytes));
    let err: unknown;
    try {
      while (dec.next() !== undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GobError);
    expect((err as Error).message).toMatch(error);
    expect((err as Error).message).toMatch(/^gob: .* \(at stream byte \d+\)$/);
    // Dead from now on, for reads and writes alike.
    expect(() => dec.next()).toThrow(err as Error);
    expect(() => dec.feed(new Uint8Array([0]))).toThrow(err as Error);
  });

  it('accepts the nested-slices vector within the depth limit', () => {
    const dec = new GobDecoder({ maxDepth: 30 });
    dec.feed(hex(nestedSlices(20)));
    let v = dec.next();
    let depth = 0;
    while (Array.isArray(v) && v.length === 1) {
      v = v[0]!;
      depth++;
    }
    expect(depth).toBe(20);
  });

  it('by default refuses a message above 8 MiB before buffering it, saying why', () => {
    const dec = new GobDecoder();
    // Byte count 9 MiB = 0x900000: three bytes, sent as the negated width (0xfd) and then big-endian.
    dec.feed(new Uint8Array([0xfd, 0x90, 0x00, 0x00, 0x01]));
    expect(() => dec.next()).toThrow(/message of 9437184 bytes exceeds the limit of 8388608 bytes \(no Rollout the Kubernetes API can store/);
  });

  it('by default takes a message of 8 MiB', () => {
    const dec = new GobDecoder();
    dec.feed(new Uint8Array([0xfd, 0x80, 0x00, 0x00]));
    expect(dec.next()).toBeUndefined(); // waiting for the body, not refused
  });

  it('refuses input piling up far beyond the message limit', () => {
    const dec = new GobDecoder({ maxMessageBytes: 100 });
    dec.feed(new Uint8Array([0x64])); // a 100-byte message, still incomplete
    expect(dec.next()).toBeUndefined();
    expect(() => dec.feed(new Uint8Array(300))).toThrow(/more than 200 bytes buffered/);
  });

  it('struct values have no Object.prototype to pollute', () => {
    const dec = new GobDecoder();
    dec.feed(hex(`${POINT_DEF} 07 ff 82 01 02 01 04 00`));
    const p = dec.next() as Record<string, unknown>;
    expect(p).toEqual({ X: 1, Y: 2 });
    expect(Object.getPrototypeOf(Object.getPrototypeOf(p))).toBeNull();
  });
});
