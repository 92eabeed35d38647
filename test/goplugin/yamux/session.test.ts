// The session against a hand-driven client over an in-memory pipe: exact bytes out for known bytes in.
import { afterEach, describe, expect, it } from 'vitest';
import {
  DuplicateStreamError,
  FrameTooLargeError,
  GoAwayReceivedError,
  InvalidFrameTypeError,
  InvalidStreamIdError,
  InvalidVersionError,
  KeepAliveTimeoutError,
  ProtocolError,
  RecvWindowExceededError,
  SessionClosedError,
  StreamResetError,
  UnexpectedFrameError,
} from '../../../src/goplugin/yamux/errors.js';
import { Flag, FrameType, GoAwayCode, INITIAL_STREAM_WINDOW, stringifyHeader } from '../../../src/goplugin/yamux/frame.js';
import { YamuxSession, type YamuxSessionOptions } from '../../../src/goplugin/yamux/session.js';
import { StreamState, type YamuxStream } from '../../../src/goplugin/yamux/stream.js';
import { duplexPair, frame, hex, RawPeer, settle, StuckSocket, until } from './fixtures.js';

const { Data, WindowUpdate, Ping, GoAway } = FrameType;
const { SYN, ACK, FIN, RST } = Flag;

interface Harness {
  session: YamuxSession;
  peer: RawPeer;
  streams: YamuxStream[];
  closes: Array<Error | undefined>;
}

const sessions: YamuxSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
});

function start(options: YamuxSessionOptions = {}, onStream?: (s: YamuxStream, h: Harness) => void): Harness {
  const [server, client] = duplexPair();
  const session = new YamuxSession(server, { keepaliveIntervalMs: 0, ...options });
  sessions.push(session);
  const h: Harness = { session, peer: new RawPeer(client), streams: [], closes: [] };
  session.on('stream', (s) => {
    h.streams.push(s);
    onStream?.(s, h);
  });
  session.on('close', (e) => h.closes.push(e));
  return h;
}

function out(h: Harness): string[] {
  return h.peer.frames().map((f) => `${stringifyHeader(f.header)}${f.payload.length > 0 ? ' ' + f.payload.toString('hex') : ''}`);
}

function dataBytes(h: Harness, streamId: number): number {
  return h.peer
    .frames()
    .filter((f) => f.header.type === Data && f.header.streamId === streamId)
    .reduce((n, f) => n + f.payload.length, 0);
}

/** Appendix A, client side, up to the broker id on stream 7. */
const clientOpening = Buffer.concat([
  hex('00 01 0001 00000001 00000000'),
  hex('00 01 0001 00000003 00000000'),
  hex('00 01 0001 00000005 00000000'),
  frame(Data, 0, 1, hex('2fff810301010752657175657374')),
  hex('00 01 0001 00000007 00000000'),
  hex('00 00 0000 00000007 00000004 01000000'),
]);

/** Appendix A, server side: ACKs for 1, 3, 5, 7 and the broker ack. */
const serverOpening = Buffer.concat([
  hex('00 01 0002 00000001 00000000'),
  hex('00 01 0002 00000003 00000000'),
  hex('00 01 0002 00000005 00000000'),
  hex('00 01 0002 00000007 00000000'),
  hex('00 00 0000 00000007 00000004 01000000'),
]);

/** Echoes the 4-byte broker id on the fourth stream, as go-plugin's MuxBroker does. */
function brokerAck(s: YamuxStream, h: Harness): void {
  if (h.streams.length !== 4) return;
  s.once('readable', function read() {
    const id = s.read(4) as Buffer | null;
    if (id === null) s.once('readable', read);
    else s.write(id);
  });
}

describe('go-plugin opening (Appendix A)', () => {
  const chunkings: Array<[string, (b: Buffer) => Buffer[]]> = [
    ['one chunk', (b) => [b]],
    ['one byte per chunk', (b) => [...b].map((x) => Buffer.of(x))],
    ['7-byte chunks', (b) => Array.from({ length: Math.ceil(b.length / 7) }, (_, i) => b.subarray(i * 7, i * 7 + 7))],
  ];

  it.each(chunkings)('answers with exactly the transcript bytes (%s)', async (_name, chunk) => {
    const h = start({}, brokerAck);
    for (const part of chunk(clientOpening)) {
      h.peer.send(part);
      await settle(1);
    }
    await settle();
    expect(h.peer.received.toString('hex')).toBe(serverOpening.toString('hex'));
    expect(h.streams.map((s) => [s.id, s.state])).toEqual([
      [1, StreamState.Established],
      [3, StreamState.Established],
      [5, StreamState.Established],
      [7, StreamState.Established],
    ]);
  });

  it('answers at every split point of the opening', async () => {
    for (let i = 1; i < clientOpening.length; i++) {
      const h = start({}, brokerAck);
      h.peer.send(clientOpening.subarray(0, i));
      await settle(1);
      h.peer.send(clientOpening.subarray(i));
      await settle();
      expect(h.peer.received.toString('hex'), `split at ${i}`).toBe(serverOpening.toString('hex'));
      h.session.close();
    }
  });
});

describe('pings', () => {
  it.each([0, 1, 0x7fffffff, 0xffffffff])('answers Ping SYN %i with Ping ACK and the same opaque value', async (opaque) => {
    const h = start();
    h.peer.send(frame(Ping, SYN, 0, opaque));
    await settle();
    expect(out(h)).toEqual([`Ping ACK stream=0 length=${opaque}`]);
  });

  it('measures a round trip with its own ping and ignores unsolicited ACKs', async () => {
    const h = start();
    h.peer.send(frame(Ping, ACK, 0, 77));
    const rtt = h.session.ping();
    await settle();
    expect(out(h)).toEqual(['Ping SYN stream=0 length=0']);
    h.peer.send(frame(Ping, ACK, 0, 0));
    await expect(rtt).resolves.toBeGreaterThanOrEqual(0);
    expect(h.session.closed).toBe(false);
  });

  it('closes the session with GoAway(internal error) when a keepalive ping goes unanswered', async () => {
    const h = start({ keepaliveIntervalMs: 5, pingTimeoutMs: 20 });
    await until(() => h.session.closed, 'keepalive timeout');
    expect(h.closes).toHaveLength(1);
    expect(h.closes[0]).toBeInstanceOf(KeepAliveTimeoutError);
    expect(out(h)).toEqual(['Ping SYN stream=0 length=0', `GoAway stream=0 length=${GoAwayCode.InternalError}`]);
  });

  it('keeps the session while keepalive pings are answered', async () => {
    const h = start({ keepaliveIntervalMs: 2, pingTimeoutMs: 1000 });
    h.peer.end.on('data', () => {
      for (const f of h.peer.frames().filter((x) => x.header.type === Ping)) h.peer.send(frame(Ping, ACK, 0, f.header.length));
      h.peer.clear();
    });
    let pings = 0;
    h.peer.end.on('data', () => pings++);
    await until(() => pings >= 5, 'five keepalive pings');
    expect(h.session.closed).toBe(false);
  });
});

describe('protocol errors close the whole session with GoAway(protocol error)', () => {
  const syn1 = frame(WindowUpdate, SYN, 1);
  it.each<[string, Buffer[], new (...args: never[]) => ProtocolError]>([
    ['bad version', [hex('01 00 0000 00000001 00000000')], InvalidVersionError],
    ['unknown frame type', [hex('00 07 0000 00000001 00000000')], InvalidFrameTypeError],
    ['Data frame larger than any window', [syn1, frame(Data, 0, 1, INITIAL_STREAM_WINDOW + 1)], FrameTooLargeError],
    ['Data beyond the granted window', [syn1, frame(Data, 0, 1, Buffer.alloc(200_000)), frame(Data, 0, 1, Buffer.alloc(70_000))], RecvWindowExceededError],
    ['even stream id from the client', [frame(WindowUpdate, SYN, 2)], InvalidStreamIdError],
    ['SYN for an open stream', [syn1, syn1], DuplicateStreamError],
    ['SYN reusing a finished stream id', [syn1, frame(WindowUpdate, RST, 1), syn1], InvalidStreamIdError],
    ['frame for a stream never opened', [frame(Data, 0, 9, Buffer.from('x'))], InvalidStreamIdError],
    ['window update for a stream never opened', [syn1, frame(WindowUpdate, 0, 3, 10)], InvalidStreamIdError],
    ['Data on stream 0', [frame(Data, 0, 0, Buffer.from('x'))], InvalidStreamIdError],
    ['a second FIN', [syn1, frame(WindowUpdate, FIN, 1), frame(WindowUpdate, FIN, 1)], UnexpectedFrameError],
    ['Data after FIN', [syn1, frame(WindowUpdate, FIN, 1), frame(Data, 0, 1, Buffer.from('x'))], UnexpectedFrameError],
  ])('%s', async (_name, frames, errorClass) => {
    const h = start(); // nobody reads the streams: no window credit is returned
    for (const f of frames) h.peer.send(f);
    await settle();
    expect(h.session.closed).toBe(true);
    expect(h.closes).toHaveLength(1);
    expect(h.closes[0]).toBeInstanceOf(errorClass);
    expect(out(h).at(-1)).toBe(`GoAway stream=0 length=${GoAwayCode.ProtocolError}`);
    expect(h.peer.ended).toBe(true);
    for (const s of h.streams) expect(s.destroyed).toBe(true);
    // Nothing more is processed once the session is closed.
    h.peer.send(frame(Ping, SYN, 0, 5));
    await settle();
    expect(out(h).filter((l) => l.startsWith('Ping'))).toEqual([]);
  });

  it('fails an open stream with the session error when someone listens for errors', async () => {
    const h = start();
    const errors: Error[] = [];
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    h.streams[0]!.on('error', (e) => errors.push(e));
    h.peer.send(hex('05 00 0000 00000001 00000000'));
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SessionClosedError);
    expect((errors[0] as SessionClosedError).cause).toBeInstanceOf(InvalidVersionError);
  });
});

describe('streams', () => {
  it('ACKs a SYN that carries data and delivers the data', async () => {
    const h = start({}, (s) => s.setEncoding('utf8'));
    h.peer.send(frame(Data, SYN, 1, Buffer.from('hello')));
    await settle();
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0']);
    expect(h.streams[0]!.read()).toBe('hello');
  });

  it('grants a larger window with the ACK when maxStreamWindow is raised', async () => {
    const h = start({ maxStreamWindow: 1024 * 1024 });
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(Data, 0, 1, Buffer.alloc(1024 * 1024)));
    await settle();
    expect(out(h)).toEqual([`WindowUpdate ACK stream=1 length=${1024 * 1024 - INITIAL_STREAM_WINDOW}`]);
    expect(h.session.closed).toBe(false);
  });

  it('returns window credit only for data the consumer has taken', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(Data, 0, 1, Buffer.alloc(INITIAL_STREAM_WINDOW, 1)));
    await settle();
    const stream = h.streams[0]!;
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0']);
    expect(stream.receiveQueuedBytes).toBe(INITIAL_STREAM_WINDOW);

    let consumed = 0;
    stream.on('data', (c: Buffer) => (consumed += c.length));
    await until(() => consumed === INITIAL_STREAM_WINDOW, 'the consumer to read the window');
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0', `WindowUpdate stream=1 length=${INITIAL_STREAM_WINDOW}`]);

    // The credit is real: another full window is accepted.
    h.peer.send(frame(Data, 0, 1, Buffer.alloc(INITIAL_STREAM_WINDOW, 2)));
    await until(() => consumed === 2 * INITIAL_STREAM_WINDOW, 'the second window');
    expect(h.session.closed).toBe(false);
  });

  it('never sends more than the peer window and resumes on its WindowUpdate', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    const stream = h.streams[0]!;
    const payload = Buffer.alloc(600_000, 9);
    let written = false;
    stream.write(payload, () => (written = true));
    await settle();
    expect(dataBytes(h, 1)).toBe(INITIAL_STREAM_WINDOW);
    expect(stream.sendWindowBytes).toBe(0);
    expect(written).toBe(false);

    h.peer.send(frame(WindowUpdate, 0, 1, 100_000));
    await settle();
    expect(dataBytes(h, 1)).toBe(INITIAL_STREAM_WINDOW + 100_000);
    expect(written).toBe(false);

    h.peer.send(frame(WindowUpdate, 0, 1, 1_000_000));
    await settle();
    expect(dataBytes(h, 1)).toBe(600_000);
    expect(written).toBe(true);
    expect(stream.sendWindowBytes).toBe(INITIAL_STREAM_WINDOW + 1_100_000 - 600_000);
    for (const f of h.peer.frames().filter((x) => x.header.type === Data)) expect(f.payload.every((b) => b === 9)).toBe(true);
  });

  it('half-closes both ways: peer FIN ends the Readable, our end() sends FIN and forgets the stream', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(Data, FIN, 1, Buffer.from('req')));
    await settle();
    const stream = h.streams[0]!;
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => stream.once('end', resolve));
    expect(Buffer.concat(chunks).toString()).toBe('req');
    expect(stream.state).toBe(StreamState.RemoteClose);
    expect(h.session.streamCount).toBe(1);

    stream.end('reply');
    await settle();
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0', 'Data stream=1 length=5 7265706c79', 'WindowUpdate FIN stream=1 length=0']);
    expect(stream.state).toBe(StreamState.Closed);
    expect(h.session.streamCount).toBe(0);
    await settle();
    expect(stream.destroyed).toBe(true);
  });

  it('a FIN on a WindowUpdate frame (how Go half-closes) ends the Readable after the queued data', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(Data, 0, 1, Buffer.from('abc')), frame(WindowUpdate, FIN, 1));
    await settle();
    const stream = h.streams[0]!;
    stream.setEncoding('utf8');
    let text = '';
    stream.on('data', (c: string) => (text += c));
    await new Promise((resolve) => stream.once('end', resolve));
    expect(text).toBe('abc');
  });

  it('our FIN first, then the peer FIN closes the stream', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    const stream = h.streams[0]!;
    stream.resume();
    stream.end();
    await settle();
    expect(stream.state).toBe(StreamState.LocalClose);
    h.peer.send(frame(WindowUpdate, FIN, 1));
    await settle();
    expect(stream.state).toBe(StreamState.Closed);
    expect(h.session.streamCount).toBe(0);
  });

  it('resets a stream whose peer never answers our FIN within streamCloseTimeoutMs', async () => {
    const h = start({ streamCloseTimeoutMs: 5 });
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(WindowUpdate, SYN, 3));
    await settle();
    const [waiting, answered] = h.streams as [YamuxStream, YamuxStream];
    waiting.end();
    answered.end();
    h.peer.send(frame(WindowUpdate, FIN, 3));
    await new Promise((resolve) => waiting.once('close', resolve));
    expect(out(h)).toEqual([
      'WindowUpdate ACK stream=1 length=0',
      'WindowUpdate ACK stream=3 length=0',
      'WindowUpdate FIN stream=1 length=0',
      'WindowUpdate FIN stream=3 length=0',
      'WindowUpdate RST stream=1 length=0',
    ]);
    expect(answered.state).toBe(StreamState.Closed);
    expect(h.session.streamCount).toBe(0);
  });

  it('a peer RST ends the stream with StreamResetError; later frames for it are discarded', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(WindowUpdate, SYN, 3));
    await settle();
    const [quiet, watched] = h.streams as [YamuxStream, YamuxStream];
    const errors: Error[] = [];
    watched.on('error', (e) => errors.push(e));
    h.peer.send(frame(WindowUpdate, RST, 1), frame(Data, RST, 3, Buffer.from('ignored')));
    await settle();
    expect(quiet.destroyed && watched.destroyed).toBe(true);
    expect(quiet.terminationReason).toBeInstanceOf(StreamResetError);
    expect(errors).toEqual([watched.terminationReason]);
    expect((errors[0] as StreamResetError).byPeer).toBe(true);

    h.peer.send(frame(Data, 0, 1, Buffer.from('late')), frame(WindowUpdate, 0, 3, 100));
    await settle();
    expect(h.session.closed).toBe(false);
  });

  it('reset() sends RST; data the peer sent meanwhile is discarded', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    h.streams[0]!.reset();
    await settle();
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0', 'WindowUpdate RST stream=1 length=0']);
    h.peer.send(frame(Data, 0, 1, Buffer.from('in flight')));
    await settle();
    expect(h.session.closed).toBe(false);
    expect(h.session.streamCount).toBe(0);
  });

  it('refuses streams beyond maxStreams with RST and keeps the session', async () => {
    const h = start({ maxStreams: 2 });
    h.peer.send(frame(WindowUpdate, SYN, 1), frame(WindowUpdate, SYN, 3), frame(Data, SYN, 5, Buffer.from('x')));
    await settle();
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0', 'WindowUpdate ACK stream=3 length=0', 'WindowUpdate RST stream=5 length=0']);
    expect(h.streams.map((s) => s.id)).toEqual([1, 3]);
    expect(h.session.closed).toBe(false);
  });

  it('accepts SYNs that arrive out of id order (concurrent OpenStream in Go)', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 11), frame(WindowUpdate, SYN, 9));
    await settle();
    expect(h.streams.map((s) => s.id)).toEqual([11, 9]);
    expect(h.session.closed).toBe(false);
  });

  it('opens streams from our side with even ids', async () => {
    const h = start();
    const a = h.session.openStream();
    const b = h.session.openStream();
    expect([a.id, b.id]).toEqual([2, 4]);
    expect(a.state).toBe(StreamState.SYNSent);
    a.write('hi');
    h.peer.send(frame(WindowUpdate, ACK, 2));
    await settle();
    expect(a.state).toBe(StreamState.Established);
    expect(out(h)).toEqual(['WindowUpdate SYN stream=2 length=0', 'WindowUpdate SYN stream=4 length=0', 'Data stream=2 length=2 6869']);
  });
});

describe('GoAway and close', () => {
  it('GoAway(normal) from the peer keeps the session but refuses new outbound streams', async () => {
    const h = start();
    h.peer.send(frame(GoAway, 0, 0, GoAwayCode.Normal));
    await settle();
    expect(h.session.closed).toBe(false);
    expect(() => h.session.openStream()).toThrow(GoAwayReceivedError);
  });

  it.each([GoAwayCode.ProtocolError, GoAwayCode.InternalError, 7])('GoAway(%i) from the peer closes the session without an answer', async (code) => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    h.peer.clear();
    h.peer.send(frame(GoAway, 0, 0, code));
    await settle();
    expect(h.closes).toHaveLength(1);
    expect(h.closes[0]).toBeInstanceOf(GoAwayReceivedError);
    expect((h.closes[0] as GoAwayReceivedError).remoteCode).toBe(code);
    expect(out(h)).toEqual([]);
    expect(h.peer.ended).toBe(true);
    expect(h.streams[0]!.destroyed).toBe(true);
  });

  it.each<[string, Error | undefined, GoAwayCode]>([
    ['no error', undefined, GoAwayCode.Normal],
    ['a protocol error', new ProtocolError('test'), GoAwayCode.ProtocolError],
    ['any other error', new Error('boom'), GoAwayCode.InternalError],
  ])('close() with %s sends GoAway(%i), ends the socket and emits close once', async (_name, error, code) => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    h.peer.clear();
    h.session.close(error);
    h.session.close(new Error('second close is ignored'));
    await settle();
    expect(out(h)).toEqual([`GoAway stream=0 length=${code}`]);
    expect(h.peer.ended).toBe(true);
    expect(h.closes).toEqual([error]);
    expect(h.streams[0]!.destroyed).toBe(true);
    expect(h.streams[0]!.terminationReason).toBeInstanceOf(SessionClosedError);
    expect(() => h.session.openStream()).toThrow(SessionClosedError);
    await expect(h.session.ping()).rejects.toThrow(SessionClosedError);
  });

  it('goAway() refuses new inbound streams with RST but keeps existing ones', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    h.session.goAway();
    h.peer.send(frame(WindowUpdate, SYN, 3), frame(Data, 0, 1, Buffer.from('still here')));
    await settle();
    expect(out(h)).toEqual(['WindowUpdate ACK stream=1 length=0', 'GoAway stream=0 length=0', 'WindowUpdate RST stream=3 length=0']);
    expect(h.session.closed).toBe(false);
    expect(h.streams[0]!.receiveQueuedBytes).toBe(10);
  });

  it('the peer closing the connection closes the session cleanly and fails its streams', async () => {
    const h = start();
    h.peer.send(frame(WindowUpdate, SYN, 1));
    await settle();
    h.peer.end.end();
    await settle();
    expect(h.closes).toEqual([undefined]);
    expect(h.streams[0]!.destroyed).toBe(true);
  });
});

describe('a peer that stops reading', () => {
  it('pauses input while too much output waits, and resumes when the socket drains', async () => {
    const socket = new StuckSocket();
    const session = new YamuxSession(socket, { keepaliveIntervalMs: 0, maxOutputBuffer: 100 });
    sessions.push(session);
    for (let i = 0; i < 20; i++) socket.feed(frame(Ping, SYN, 0, i));
    await settle();
    // Each pong is 12 bytes: input stops once more than 100 bytes wait, not after all 20 pings.
    expect(socket.isPaused()).toBe(true);
    expect(socket.written.length).toBeLessThan(20);
    expect(socket.writableLength).toBeGreaterThan(100);

    socket.release();
    await until(() => {
      socket.release();
      return socket.written.length === 20;
    }, 'all pongs');
    expect(socket.isPaused()).toBe(false);
    expect(Buffer.concat(socket.written).readUInt32BE(19 * 12 + 8)).toBe(19);
  });

  it('close() destroys the socket after closeTimeoutMs when the GoAway cannot be flushed', async () => {
    const socket = new StuckSocket();
    const session = new YamuxSession(socket, { keepaliveIntervalMs: 0, closeTimeoutMs: 10 });
    session.close();
    expect(socket.destroyed).toBe(false);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(socket.destroyed).toBe(true);
    expect(socket.written.map((b) => b.toString('hex'))).toEqual(['000300000000000000000000']);
  });
});

describe('options', () => {
  it.each<[YamuxSessionOptions, RegExp]>([
    [{ maxStreamWindow: 1000 }, /maxStreamWindow must be an integer from 262144/],
    [{ maxStreamWindow: 2 ** 32 }, /maxStreamWindow/],
    [{ keepaliveIntervalMs: -1 }, /keepaliveIntervalMs/],
    [{ pingTimeoutMs: 0 }, /pingTimeoutMs/],
    [{ maxStreams: 1.5 }, /maxStreams/],
    [{ closeTimeoutMs: Number.NaN }, /closeTimeoutMs/],
    [{ streamCloseTimeoutMs: -5 }, /streamCloseTimeoutMs/],
  ])('rejects %j', (options, message) => {
    const [server] = duplexPair();
    expect(() => new YamuxSession(server, options)).toThrow(message);
  });
});
