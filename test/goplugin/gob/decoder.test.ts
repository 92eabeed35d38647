// Decoder behaviour the Go vectors do not reach: wire forms Go's encoder never writes but a decoder
// must accept (TextMarshalerT, Go's bootstrap types as values), and opaque values named Time.

import { describe, expect, it } from 'vitest';
import { GobDecoder, GobOpaque, GobTime, gobTypeName } from '../../../src/goplugin/gob/index.js';
import { decodeChunks, hex } from './fixtures.js';

/** Definition of id 65 as a marshaler type (wireType field 4, 5 or 6) named `name`. */
function marshalerDef(field: 4 | 5 | 6, name: string): string {
  const body = hex(`ff 81 ${(field + 1).toString(16).padStart(2, '0')} 01 01 ${name.length.toString(16).padStart(2, '0')} "${name}" 01 ff 82 00 00 00`);
  return `${body.length.toString(16).padStart(2, '0')} ${body.toString('hex')}`;
}

describe('GobDecoder', () => {
  it.each([
    [4, 'GobEncoderT'],
    [5, 'BinaryMarshalerT'],
    [6, 'TextMarshalerT (never written by Go, accepted anyway)'],
  ] as const)('marshaler definition in wireType field %i: %s → GobOpaque', (field, _kind) => {
    const [v] = decodeChunks([hex(`${marshalerDef(field, 'Blob')} 07 ff 82 00 03 61 62 63`)]);
    expect(v).toEqual(new GobOpaque('Blob', new Uint8Array([0x61, 0x62, 0x63])));
  });

  it('a Time whose bytes are not Go time bytes stays opaque', () => {
    const [v] = decodeChunks([hex(`${marshalerDef(4, 'Time')} 06 ff 82 00 02 01 02`)]);
    expect(v).toBeInstanceOf(GobOpaque);
  });

  it('a MicroTime in Go time bytes is a GobTime', () => {
    const [v] = decodeChunks([hex(`${marshalerDef(4, 'MicroTime')} 13 ff 82 00 0f 01 00 00 00 0e dd 25 74 25 00 00 00 06 ff ff`)]);
    expect(v).toBeInstanceOf(GobTime);
    expect((v as GobTime).toDate().toISOString()).toBe('2024-01-02T03:04:05.000Z');
  });

  it("decodes Go's bootstrap types (ids 16-23) as ordinary structs", () => {
    // A top-level value of builtin type 18 (CommonType {Name string; Id int}).
    const [v] = decodeChunks([hex('08 24 01 01 78 01 ff 82 00')]);
    expect(v).toEqual({ Name: 'x', Id: 65 });
    expect(gobTypeName(v)).toBe('CommonType');
  });

  it('keeps the type table per decoder: a second stream must define types again', () => {
    const def = '1b ff 81 03 01 01 01 "P" 01 ff 82 00 01 02 01 01 "X" 01 04 00 01 01 "Y" 01 04 00 00 00';
    expect(decodeChunks([hex(`${def} 05 ff 82 01 02 00`)])).toEqual([{ X: 1 }]);
    const second = new GobDecoder();
    second.feed(hex('05 ff 82 01 02 00'));
    expect(() => second.next()).toThrow(/unknown type id 65/);
  });

  it('feeding nothing changes nothing', () => {
    const dec = new GobDecoder();
    dec.feed(new Uint8Array(0));
    expect(dec.next()).toBeUndefined();
    expect(dec.bufferedBytes).toBe(0);
  });
});
