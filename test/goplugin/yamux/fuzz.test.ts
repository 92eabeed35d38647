// Random, mutated and truncated input, fed in random chunks: the process never crashes, and the session
// is always either open and consistent or fully closed (socket ended, every stream destroyed).
import { describe, expect, it } from 'vitest';
import { Flag, FrameType, MAX_U32 } from '../../../src/goplugin/yamux/frame.js';
import { YamuxSession } from '../../../src/goplugin/yamux/session.js';
import { StreamState, type YamuxStream } from '../../../src/goplugin/yamux/stream.js';
import { duplexPair, frame, prng, RawPeer, settle } from './fixtures.js';

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function randomFrame(random: Random): Buffer {
  const type = pick(random, [FrameType.Data, FrameType.Data, FrameType.WindowUpdate, FrameType.WindowUpdate, FrameType.Ping, FrameType.GoAway]);
  const flags = random() < 0.5 ? pick(random, [Flag.SYN, 0, 0, Flag.FIN, Flag.RST, Flag.ACK]) : Math.floor(random() * 16);
  const streamId = pick(random, [0, 1, 1, 3, 3, 5, 7, 2, 4, 9, MAX_U32]);
  switch (type) {
    case FrameType.Data:
      if (random() < 0.05) return frame(type, flags, streamId, 300_000); // header only: too large or truncated
      return frame(type, flags, streamId, Buffer.alloc(Math.floor(random() * (random() < 0.1 ? 200_000 : 300)), 0x5a));
    case FrameType.WindowUpdate:
      return frame(type, flags, streamId, random() < 0.8 ? Math.floor(random() * 100_000) : MAX_U32);
    case FrameType.Ping:
      return frame(type, flags, streamId, Math.floor(random() * MAX_U32));
    default:
      return frame(type, flags, 0, random() < 0.7 ? 0 : Math.floor(random() * 4));
  }
}

function randomInput(random: Random): Buffer {
  const kind = random();
  if (kind < 0.15) return Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
  const frames = [frame(FrameType.WindowUpdate, Flag.SYN, 1)];
  const count = 1 + Math.floor(random() * 12);
  for (let i = 0; i < count; i++) frames.push(randomFrame(random));
  let bytes = Buffer.concat(frames);
  if (kind < 0.4) {
    bytes = Buffer.from(bytes);
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
  }
  if (kind > 0.85) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
  return bytes;
}

type Behaviour = (stream: YamuxStream, random: Random) => void;
const behaviours: Behaviour[] = [
  () => {}, // never reads
  (s) => s.resume(),
  (s) => s.pipe(s),
  (s) => s.once('data', () => s.reset()),
  (s) => s.on('error', () => {}).resume(),
  (s, random) => s.once('data', () => s.end(Buffer.alloc(Math.floor(random() * 400_000), 1))),
];

function checkConsistent(session: YamuxSession, peer: RawPeer, streams: YamuxStream[], seed: number): void {
  const where = `seed ${seed}`;
  if (session.closed) {
    expect(peer.ended, `${where}: closed session left the socket open`).toBe(true);
    expect(session.streamCount, where).toBe(0);
    for (const s of streams) expect(s.destroyed, `${where}: stream ${s.id} outlived the session`).toBe(true);
  } else {
    for (const s of streams) {
      if (s.state === StreamState.Reset) expect(s.destroyed, `${where}: reset stream ${s.id} not destroyed`).toBe(true);
    }
  }
}

describe('fuzz', () => {
  it('never crashes and never leaves a half-open session', async () => {
    let closedByInput = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const random = prng(seed);
      const [server, client] = duplexPair();
      const session = new YamuxSession(server, { keepaliveIntervalMs: 0 });
      const peer = new RawPeer(client);
      const streams: YamuxStream[] = [];
      session.on('stream', (s) => {
        streams.push(s);
        pick(random, behaviours)(s, random);
      });

      const input = randomInput(random);
      for (let off = 0; off < input.length; ) {
        const n = 1 + Math.floor(random() * (random() < 0.2 ? 2 : 4000));
        peer.send(input.subarray(off, off + n));
        off += n;
        if (random() < 0.3) await settle(1);
      }
      await settle();
      checkConsistent(session, peer, streams, seed);
      if (session.closed) closedByInput++;

      // End of input: the session must close completely.
      client.end();
      await settle();
      expect(session.closed, `seed ${seed}: EOF did not close the session`).toBe(true);
      checkConsistent(session, peer, streams, seed);
    }
    // The generator must exercise both outcomes, or the test proves little.
    expect(closedByInput).toBeGreaterThan(50);
    expect(closedByInput).toBeLessThan(390);
  });
});
