// The TypeScript yamux server against the real Go client (hashicorp/yamux v0.1.2, as used by go-plugin)
// over loopback TCP. Each test runs one gopeer scenario; the server plays its side of it.
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError, SessionClosedError, StreamResetError } from '../../../src/goplugin/yamux/errors.js';
import { INITIAL_STREAM_WINDOW } from '../../../src/goplugin/yamux/frame.js';
import type { YamuxSession, YamuxSessionOptions } from '../../../src/goplugin/yamux/session.js';
import type { YamuxStream } from '../../../src/goplugin/yamux/stream.js';
import { buildGoPeer, runGoPeer, startTsServer, type TsServer } from './gopeer.js';
import { pattern, until } from './fixtures.js';

let binary: string;
beforeAll(async () => {
  binary = await buildGoPeer();
}, 180_000);

const servers: TsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(onStream: (stream: YamuxStream, session: YamuxSession, index: number) => void, options: YamuxSessionOptions = {}): Promise<TsServer> {
  const server = await startTsServer({ keepaliveIntervalMs: 0, ...options }, (session) => {
    let index = 0;
    session.on('stream', (stream) => onStream(stream, session, index++));
  });
  servers.push(server);
  return server;
}

const echo = (stream: YamuxStream): void => {
  stream.pipe(stream);
};

function readAll(stream: YamuxStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

describe('interop with the Go yamux v0.1.2 client', () => {
  it('echoes 24 concurrent streams, several far above the 256 KiB window, both ways', async () => {
    const server = await serve(echo);
    const peer = await runGoPeer(binary, server.addr, 'echo', ['-streams', '24', '-size', String(3 * 1024 * 1024)]);
    expect(peer.stderr).not.toMatch(/ERR|WARN/);
    expect(peer.code).toBe(0);
    expect(peer.result).toMatchObject({ streams: 24, open: true });
    expect(peer.result['bytes']).toBeGreaterThan(12 * 1024 * 1024);
    // The Go client closes the socket without GoAway when it is done.
    await expect(server.firstClose).resolves.toBeUndefined();
  });

  it('serves several Go clients at once, each on its own session', async () => {
    const server = await serve(echo);
    const peers = await Promise.all(
      [1, 2, 3].map(() => runGoPeer(binary, server.addr, 'echo', ['-streams', '8', '-size', String(512 * 1024)])),
    );
    for (const peer of peers) {
      expect(peer.code, peer.stderr).toBe(0);
      expect(peer.result).toMatchObject({ streams: 8, open: true });
    }
    expect(server.sessions).toHaveLength(3);
  });

  it('carries 2000 small request/reply round trips on one stream (the net/rpc traffic shape)', async () => {
    const server = await serve(echo);
    const peer = await runGoPeer(binary, server.addr, 'round-trips', ['-rounds', '2000']);
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result['rounds']).toBe(2000);
  });

  it("serves go-plugin's stream layout: ACKs idle streams 1, 3, 5 and echoes the broker id on 7", async () => {
    const server = await serve((stream, _session, index) => {
      if (index !== 3) return;
      stream.once('readable', () => stream.write(stream.read(4) as Buffer));
    });
    const peer = await runGoPeer(binary, server.addr, 'goplugin-layout');
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ ids: [1, 3, 5, 7], ack: '01000000' });
  });

  it('stays up through an idle period longer than the stream-open timeout, with fast keepalives both ways', async () => {
    const server = await serve(echo, { keepaliveIntervalMs: 20 });
    const peer = await runGoPeer(binary, server.addr, 'idle', ['-keepalive', '20ms', '-open-timeout', '300ms', '-idle', '1s']);
    expect(peer.stderr).not.toMatch(/aborted stream open|keepalive failed/);
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toMatchObject({ open: true });
    // Our keepalive never failed: the session ended only because the Go process exited (clean EOF, or
    // EPIPE when a ping of ours raced the exit).
    const reason = await server.firstClose;
    expect(reason === undefined || ['EPIPE', 'ECONNRESET'].includes((reason as NodeJS.ErrnoException).code ?? ''), String(reason)).toBe(true);
  });

  it('answers Go pings and gets answers to its own', async () => {
    const rtts: number[] = [];
    const server = await serve((_stream, session) => {
      void (async () => {
        for (let i = 0; i < 3; i++) rtts.push(await session.ping());
        session.close();
      })();
    });
    const peer = await runGoPeer(binary, server.addr, 'ping', ['-keepalive', '10ms']);
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ pings: 5, shutdown: 'EOF' });
    expect(rtts).toHaveLength(3);
    for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it('holds back a slow reader at exactly one window, then answers after the peer half-closed', async () => {
    const size = 1024 * 1024;
    let peakQueued = 0;
    const server = await serve((stream) => {
      void (async () => {
        // Not reading yet: Go may fill exactly the window we granted and must then block.
        await until(() => {
          peakQueued = Math.max(peakQueued, stream.receiveQueuedBytes);
          return stream.receiveQueuedBytes >= INITIAL_STREAM_WINDOW;
        }, 'the Go writer to fill the window');
        const data = await readAll(stream);
        stream.end(`${data.length} ${createHash('sha256').update(data).digest('hex')}`);
      })();
    });
    const peer = await runGoPeer(binary, server.addr, 'digest', ['-size', String(size)]);
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result['answer']).toBe(`${size} ${createHash('sha256').update(pattern(3, size)).digest('hex')}`);
    expect(peakQueued).toBe(INITIAL_STREAM_WINDOW);
  });

  it('stops writing at the Go window while Go does not read, and finishes when it does', async () => {
    const size = 2 * 1024 * 1024;
    let observed: { sendWindow: number; writeDone: boolean } | undefined;
    const streams: YamuxStream[] = [];
    const server = await serve((stream, _session, index) => {
      streams.push(stream);
      stream.once('data', () => {
        if (index !== 1) return; // stream B arrived: A exists too
        const [a, b] = streams as [YamuxStream, YamuxStream];
        let writeDone = false;
        a.write(pattern(9, size), () => {
          writeDone = true;
          a.end();
        });
        void until(() => a.sendWindowBytes === 0, 'stream A to exhaust the Go window').then(() => {
          observed = { sendWindow: a.sendWindowBytes, writeDone };
          b.write('go');
        });
      });
    });
    const peer = await runGoPeer(binary, server.addr, 'server-blocked', ['-size', String(size)]);
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ bytes: size });
    expect(observed).toEqual({ sendWindow: 0, writeDone: false });
  });

  it('resets a stream: the Go reader gets "connection reset" and the session carries on', async () => {
    const server = await serve((stream, _session, index) => {
      if (index === 0) stream.once('data', () => stream.reset());
      else echo(stream);
    });
    const peer = await runGoPeer(binary, server.addr, 'server-reset');
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ readError: 'connection reset', open: true });
  });

  it('sees a Go RST (StreamCloseTimeout after its FIN) as a peer reset', async () => {
    let reason: Error | undefined;
    const server = await serve((stream, session) => {
      stream.resume(); // read, but never send our FIN
      stream.on('close', () => {
        reason = stream.terminationReason;
        session.close();
      });
    });
    const peer = await runGoPeer(binary, server.addr, 'client-reset', ['-close-timeout', '100ms']);
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ shutdown: 'EOF' });
    expect(reason).toBeInstanceOf(StreamResetError);
    expect((reason as StreamResetError).byPeer).toBe(true);
  });

  it.each<[string, Error | undefined, string]>([
    ['normally', undefined, 'EOF'],
    ['with a protocol error', new ProtocolError('test'), 'yamux protocol error'],
    ['with an internal error', new Error('boom'), 'remote yamux internal error'],
  ])('closes the session %s and Go sees it', async (_name, error, goReason) => {
    const server = await serve((stream, session) => stream.once('data', () => session.close(error)));
    const peer = await runGoPeer(binary, server.addr, 'server-close');
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ shutdown: goReason, readErr: '', openErr: 'session shutdown' });
    await expect(server.firstClose).resolves.toBe(error);
  });

  it('sees the Go client close the session and fails the open streams', async () => {
    const streams: YamuxStream[] = [];
    const server = await serve((stream) => {
      streams.push(stream);
      stream.once('data', (c: Buffer) => stream.write(c));
    });
    const peer = await runGoPeer(binary, server.addr, 'client-close');
    expect(peer.code, peer.stderr).toBe(0);
    await expect(server.firstClose).resolves.toBeUndefined();
    await until(() => streams.every((s) => s.destroyed), 'streams to be destroyed');
    expect(streams[0]!.terminationReason).toBeInstanceOf(SessionClosedError);
  });

  it('opens a stream towards the Go client', async () => {
    let reply: Promise<Buffer> | undefined;
    const server = await serve((_stream, session) => {
      const ours = session.openStream();
      reply = readAll(ours);
      ours.end('hello from ts');
      void reply.then(() => session.close());
    });
    const peer = await runGoPeer(binary, server.addr, 'server-open');
    expect(peer.code, peer.stderr).toBe(0);
    expect(peer.result).toEqual({ id: 2, got: 'hello from ts', shutdown: 'EOF' });
    expect((await reply!).toString()).toBe('ack:hello from ts');
  });
});
