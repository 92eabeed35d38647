import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../../src/goplugin/yamux/decoder.js';
import { FrameTooLargeError, InvalidFrameTypeError, InvalidVersionError } from '../../../src/goplugin/yamux/errors.js';
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_LENGTH,
  INITIAL_STREAM_WINDOW,
  PROTOCOL_VERSION,
  stringifyHeader,
  type FrameHeader,
} from '../../../src/goplugin/yamux/frame.js';
import { frame, hex, prng, type Frame } from './fixtures.js';

describe('wire constants (pinned like yamux TestConst)', () => {
  it.each([
    ['PROTOCOL_VERSION', PROTOCOL_VERSION, 0],
    ['HEADER_LENGTH', HEADER_LENGTH, 12],
    ['INITIAL_STREAM_WINDOW', INITIAL_STREAM_WINDOW, 262144],
    ['Data', FrameType.Data, 0],
    ['WindowUpdate', FrameType.WindowUpdate, 1],
    ['Ping', FrameType.Ping, 2],
    ['GoAway', FrameType.GoAway, 3],
    ['SYN', Flag.SYN, 1],
    ['ACK', Flag.ACK, 2],
    ['FIN', Flag.FIN, 4],
    ['RST', Flag.RST, 8],
    ['Normal', GoAwayCode.Normal, 0],
    ['ProtocolError', GoAwayCode.ProtocolError, 1],
    ['InternalError', GoAwayCode.InternalError, 2],
  ])('%s = %i', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('header encode/decode', () => {
  // Vectors from plugin-protocol.md §3.1, §4.3 and Appendix A, plus extremes.
  it.each<[string, string, FrameHeader]>([
    ['WindowUpdate SYN stream 1 (§3.1)', '00 01 0001 00000001 00000000', h(FrameType.WindowUpdate, Flag.SYN, 1, 0)],
    ['WindowUpdate ACK stream 7 (§4.3)', '00 01 0002 00000007 00000000', h(FrameType.WindowUpdate, Flag.ACK, 7, 0)],
    ['Data stream 7, 4 bytes (§4.3)', '00 00 0000 00000007 00000004', h(FrameType.Data, 0, 7, 4)],
    ['Data stream 1, 98 bytes (App. A)', '00 00 0000 00000001 00000062', h(FrameType.Data, 0, 1, 98)],
    ['WindowUpdate FIN stream 5 (App. A)', '00 01 0004 00000005 00000000', h(FrameType.WindowUpdate, Flag.FIN, 5, 0)],
    ['Ping SYN opaque 3', '00 02 0001 00000000 00000003', h(FrameType.Ping, Flag.SYN, 0, 3)],
    ['GoAway protocol error', '00 03 0000 00000000 00000001', h(FrameType.GoAway, 0, 0, GoAwayCode.ProtocolError)],
    ['RST', '00 01 0008 00000003 00000000', h(FrameType.WindowUpdate, Flag.RST, 3, 0)],
    ['all ones', '00 03 ffff ffffffff ffffffff', h(FrameType.GoAway, 0xffff, 0xffffffff, 0xffffffff)],
    ['window update 256 KiB', '00 01 0000 00000001 00040000', h(FrameType.WindowUpdate, 0, 1, 262144)],
  ])('%s', (_name, bytes, header) => {
    expect(encodeHeader(header.type, header.flags, header.streamId, header.length).toString('hex')).toBe(hex(bytes).toString('hex'));
    expect(decodeHeader(hex(bytes))).toEqual(header);
  });

  it('encodes into a larger buffer at an offset', () => {
    const target = Buffer.alloc(20, 0xaa);
    encodeHeader(FrameType.Data, Flag.ACK, 9, 5, target, 4);
    expect(target.toString('hex')).toBe('aaaaaaaa' + '000000020000000900000005' + 'aaaaaaaa');
    expect(decodeHeader(target, 4)).toEqual(h(FrameType.Data, Flag.ACK, 9, 5));
  });

  it.each([
    [h(FrameType.WindowUpdate, Flag.SYN | Flag.ACK, 7, 0), 'WindowUpdate SYN|ACK stream=7 length=0'],
    [h(FrameType.Data, 0, 1, 98), 'Data stream=1 length=98'],
    [{ ...h(9 as FrameType, 0x30, 1, 0), version: 2 }, 'type(9) 0x30 stream=1 length=0 version=2'],
  ])('stringifies %j', (header, text) => {
    expect(stringifyHeader(header)).toBe(text);
  });
});

// A client transcript (Appendix A, C→S side) with payloads, used for the chunking tests.
const transcript = Buffer.concat([
  hex('00 01 0001 00000001 00000000'),
  hex('00 01 0001 00000003 00000000'),
  hex('00 01 0001 00000005 00000000'),
  frame(FrameType.Data, 0, 1, Buffer.from('2fff81030101075265717565737401ff8200', 'hex')),
  hex('00 01 0001 00000007 00000000'),
  hex('00 00 0000 00000007 00000004 01000000'),
  frame(FrameType.Data, Flag.SYN, 9, Buffer.alloc(300, 7)), // SYN frame carrying data
  hex('00 02 0001 00000000 00000000'),
  frame(FrameType.Data, Flag.FIN, 7, Buffer.from('last')), // flags on a Data frame
  hex('00 01 0004 00000001 00000000'),
  hex('00 03 0000 00000000 00000000'),
]);

function decodeAll(chunks: Buffer[]): Frame[] {
  const out: Frame[] = [];
  const decoder = new FrameDecoder((header, payload) => out.push({ header, payload: Buffer.from(payload) }));
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.bufferedBytes).toBe(0);
  return out;
}

/** One line per frame; comparing strings keeps thousands of chunking variants fast. */
function render(frames: Frame[]): string {
  return frames.map((f) => `${stringifyHeader(f.header)} ${f.payload.toString('hex')}`).join('\n');
}

describe('FrameDecoder', () => {
  const whole = decodeAll([transcript]);
  const wholeText = render(whole);

  it('decodes the transcript in one chunk', () => {
    expect(whole.map((f) => stringifyHeader(f.header))).toEqual([
      'WindowUpdate SYN stream=1 length=0',
      'WindowUpdate SYN stream=3 length=0',
      'WindowUpdate SYN stream=5 length=0',
      'Data stream=1 length=18',
      'WindowUpdate SYN stream=7 length=0',
      'Data stream=7 length=4',
      'Data SYN stream=9 length=300',
      'Ping SYN stream=0 length=0',
      'Data FIN stream=7 length=4',
      'WindowUpdate FIN stream=1 length=0',
      'GoAway stream=0 length=0',
    ]);
    expect(whole[5]!.payload.toString('hex')).toBe('01000000');
    expect(whole[8]!.payload.toString()).toBe('last');
  });

  it('gives the same frames for a split at every byte boundary', () => {
    for (let i = 0; i <= transcript.length; i++) {
      expect(render(decodeAll([transcript.subarray(0, i), transcript.subarray(i)])), `split at ${i}`).toBe(wholeText);
    }
  });

  it('gives the same frames when fed one byte at a time', () => {
    const bytes = [...transcript].map((b) => Buffer.of(b));
    expect(render(decodeAll(bytes))).toBe(wholeText);
  });

  it('gives the same frames for random chunkings', () => {
    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < transcript.length; ) {
        const n = 1 + Math.floor(random() * 40);
        chunks.push(transcript.subarray(off, off + n));
        off += n;
      }
      expect(render(decodeAll(chunks))).toBe(wholeText);
    }
  });

  it('hands over a payload that sits inside one chunk as a view, without copying', () => {
    const bytes = frame(FrameType.Data, 0, 1, Buffer.from('hello'));
    const payloads: Buffer[] = [];
    new FrameDecoder((_h, p) => payloads.push(p)).push(bytes);
    expect(payloads[0]!.buffer).toBe(bytes.buffer);
    expect(payloads[0]!.toString()).toBe('hello');
  });

  it.each([
    ['version 1', '01 00 0000 00000001 00000000', InvalidVersionError],
    ['type 4', '00 04 0000 00000001 00000000', InvalidFrameTypeError],
    ['type 255', '00 ff 0000 00000000 00000000', InvalidFrameTypeError],
    ['Data above the window, before its payload arrives', '00 00 0000 00000001 00040001', FrameTooLargeError],
  ])('rejects %s as soon as the 12th header byte arrives', (_name, bytes, errorClass) => {
    const decoder = new FrameDecoder(() => {});
    const header = hex(bytes);
    decoder.push(header.subarray(0, 11));
    expect(() => decoder.push(header.subarray(11))).toThrow(errorClass);
  });

  it('accepts a Data frame of exactly the maximum length and honours a custom maximum', () => {
    const frames: FrameHeader[] = [];
    const decoder = new FrameDecoder((header) => frames.push(header), 1024 * 1024);
    decoder.push(encodeHeader(FrameType.Data, 0, 1, 1024 * 1024));
    decoder.push(Buffer.alloc(1024 * 1024));
    expect(frames).toEqual([h(FrameType.Data, 0, 1, 1024 * 1024)]);
    expect(() => decoder.push(encodeHeader(FrameType.Data, 0, 1, 1024 * 1024 + 1))).toThrow(FrameTooLargeError);
  });

  it('treats the length of non-Data frames as a value, not a payload size', () => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder((header, payload) => frames.push({ header, payload }));
    decoder.push(Buffer.concat([hex('00 01 0000 00000001 ffffffff'), hex('00 02 0001 00000000 ffffffff')]));
    expect(frames.map((f) => [f.header.length, f.payload.length])).toEqual([
      [0xffffffff, 0],
      [0xffffffff, 0],
    ]);
  });
});

function h(type: FrameType, flags: number, streamId: number, length: number): FrameHeader {
  return { version: 0, type, flags, streamId, length };
}
