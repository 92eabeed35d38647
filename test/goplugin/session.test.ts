import { afterEach, describe, expect, it } from 'vitest';
import type { ArgConverters } from '../../src/goplugin/args.js';
import { startPluginServer, type PluginServer } from '../../src/goplugin/server.js';
import { Flag, FrameType, GoAwayCode, hasFlag } from '../../src/goplugin/yamux/frame.js';
import type { Rollout } from '../../src/core/rollout.js';
import { RpcVerified, type TrafficRouter } from '../../src/plugin/router.js';
import type { MetricProvider } from '../../src/plugin/metric-provider.js';
import { silentLogger, TestRpcClient } from './fixtures.js';
import { MiniYamuxClient } from './yamux-client.js';

const converters: ArgConverters = {
  rollout: () => ({ metadata: { name: 'x' }, spec: { strategy: {} } }) as Rollout,
  weightDestinations: () => [],
  setHeaderRoute: () => ({ name: 'x' }),
  setMirrorRoute: () => ({ name: 'x' }),
};

class StubRouter implements TrafficRouter {
  initGate: Promise<void> = Promise.resolve();
  initPlugin = () => this.initGate;
  type = () => 'ALB';
  updateHash = async () => {};
  setWeight = async () => {};
  verifyWeight = async () => ({ verified: RpcVerified.NotImplemented });
  setHeaderRoute = async () => {};
  setMirrorRoute = async () => {};
  removeManagedRoutes = async () => {};
}

interface Events {
  opened: number;
  closed: number;
  calls: Array<[string, string]>;
}

let server: PluginServer | undefined;
const clients: MiniYamuxClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function start(router: TrafficRouter = new StubRouter(), callTimeoutMs = 30_000, closeGraceMs?: number, metricProvider?: MetricProvider): Promise<Events> {
  const ev: Events = { opened: 0, closed: 0, calls: [] };
  server = await startPluginServer({
    listen: '127.0.0.1:0',
    router,
    metricProvider,
    callTimeoutMs,
    logger: silentLogger,
    converters,
    closeGraceMs,
    hooks: {
      onSessionOpen: () => ev.opened++,
      onSessionClose: () => ev.closed++,
      onCall: (m, o) => ev.calls.push([m, o]),
    },
  });
  return ev;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/** Does what go-plugin's client does on connect: control, stdout, stderr, then Dispense and the broker dial. */
async function connectAsArgo(
  dispense = 'RpcTrafficRouterPlugin',
): Promise<{ y: MiniYamuxClient; control: TestRpcClient; plugin: TestRpcClient; pluginId: number }> {
  const y = await MiniYamuxClient.connect(server!.address);
  clients.push(y);
  const control = new TestRpcClient(y.open().stream);
  y.open();
  y.open();
  control.send('Dispenser.Dispense', 0, { kind: 'string', value: dispense });
  const [dispensed] = await control.waitForReplies(1);
  const brokerId = dispensed!.body as number;
  const { id, stream } = y.open();
  const plugin = new TestRpcClient(stream, { prefixBytes: 4 });
  // The id and the first request travel in one frame, before any ACK (as Go's client may send them).
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32LE(brokerId);
  plugin.send('Plugin.InitPlugin', 0, { kind: 'nil' }, idBytes);
  await until(() => plugin.prefix.length === 4);
  expect(plugin.prefix).toEqual(idBytes);
  return { y, control, plugin, pluginId: id };
}

describe('plugin session over yamux', () => {
  it('ACKs every stream (idle stdout/stderr too), dispenses id 1 and serves Plugin on the broker stream', async () => {
    const ev = await start();
    const { y, control, plugin, pluginId } = await connectAsArgo();
    const [init] = await plugin.waitForReplies(1);
    expect(init!.header).toMatchObject({ ServiceMethod: 'Plugin.InitPlugin' });
    expect(init!.body).toMatchObject({});
    plugin.send('Plugin.Type', 1, { kind: 'nil' });
    control.send('Control.Ping', 1, { kind: 'bool', value: true });
    const replies = await plugin.waitForReplies(2);
    expect(replies[1]!.body).toBe('ALB');
    await control.waitForReplies(2);
    for (const id of [1, 3, 5, pluginId]) {
      expect(y.framesFor(id).some((f) => f.type === FrameType.WindowUpdate && hasFlag(f.flags, Flag.ACK))).toBe(true);
    }
    expect(ev.opened).toBe(1);
    expect(ev.calls).toEqual(
      expect.arrayContaining([
        ['Dispenser.Dispense', 'ok'],
        ['Plugin.InitPlugin', 'ok'],
        ['Plugin.Type', 'ok'],
        ['Control.Ping', 'ok'],
      ]),
    );
  });

  it('answers Control.Quit, then closes the connection', async () => {
    const ev = await start();
    const { y, control } = await connectAsArgo();
    control.send('Control.Quit', 5, { kind: 'bool', value: true });
    const replies = await control.waitForReplies(2);
    expect(replies[1]!.header).toMatchObject({ ServiceMethod: 'Control.Quit', Seq: 5 });
    await y.closed;
    await until(() => ev.closed === 1);
  });

  it("after Quit, lets go-plugin close its streams before the connection goes (else it SIGKILLs the child)", async () => {
    const ev = await start(new StubRouter(), 30_000, 60_000);
    const { y, control, pluginId } = await connectAsArgo();
    control.send('Control.Quit', 5, { kind: 'bool', value: true });
    await control.waitForReplies(2);
    // go-plugin's RPCClient.Close: control, stdout, stderr, broker streams, then the session.
    for (const id of [1, 3, 5, pluginId]) y.finish(id);
    await y.ping();
    expect(y.frames.some((f) => f.type === FrameType.GoAway)).toBe(false);
    expect(ev.closed).toBe(0);
    y.close();
    await until(() => ev.closed === 1);
  });

  it.each([
    ['the plugin stream', 'plugin'],
    ['the control stream', 'control'],
  ] as const)('closes the whole connection when %s carries undecodable gob', async (_, which) => {
    const ev = await start();
    const { y, control, plugin } = await connectAsArgo();
    await plugin.waitForReplies(1);
    (which === 'plugin' ? plugin : control).writeRaw(Buffer.from('03ff8400', 'hex'));
    await y.closed;
    expect(y.frames.some((f) => f.type === FrameType.GoAway && f.length !== GoAwayCode.Normal)).toBe(true);
    await until(() => ev.closed === 1);
  });

  it('refuses a broker stream with an id Dispense never gave out, and keeps the session', async () => {
    await start();
    const { y, control } = await connectAsArgo();
    const { id, stream } = y.open();
    stream.write(Buffer.from('09000000', 'hex'));
    await until(() => y.framesFor(id).some((f) => hasFlag(f.flags, Flag.RST)));
    control.send('Control.Ping', 1, { kind: 'bool', value: true });
    await control.waitForReplies(2);
  });

  it('answers Ping while a Plugin call is still running, and times the call out with an ErrorString', async () => {
    const router = new StubRouter();
    router.initGate = new Promise(() => {});
    const ev = await start(router, 300);
    const { control, plugin } = await connectAsArgo();
    control.send('Control.Ping', 1, { kind: 'bool', value: true });
    const [, ping] = await control.waitForReplies(2);
    expect(ping!.header.ServiceMethod).toBe('Control.Ping');
    expect(ev.calls.find(([m]) => m === 'Plugin.InitPlugin')).toBeUndefined();
    const [init] = await plugin.waitForReplies(1);
    expect(init!.header.Error).toBeUndefined();
    expect((init!.body as { ErrorString: string }).ErrorString).toMatch(/Plugin.InitPlugin did not finish within 0.3s/);
    expect(ev.calls).toContainEqual(['Plugin.InitPlugin', 'timeout']);
  });

  it('accepts probe connections that close without a byte, and several sessions at once', async () => {
    const ev = await start();
    const probe = await MiniYamuxClient.connect(server!.address);
    probe.close();
    const a = await connectAsArgo();
    const b = await connectAsArgo();
    a.control.send('Control.Ping', 1, { kind: 'bool', value: true });
    b.control.send('Control.Ping', 1, { kind: 'bool', value: true });
    await Promise.all([a.control.waitForReplies(2), b.control.waitForReplies(2)]);
    await until(() => ev.opened === 3 && ev.closed === 1);
  });

  // Seeded so a failure can be replayed; each case is random bytes (sometimes a valid header first) on the
  // plugin stream, then the stream is half-closed. Whatever the bytes did, the session must end up closed:
  // either at once (undecodable) or at the FIN (a partial message can never complete).
  it('never leaves a half-open session after random input on the plugin stream', async () => {
    const ev = await start();
    let seed = 0x5eed;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 40; i++) {
      const { y, plugin, pluginId } = await connectAsArgo();
      await plugin.waitForReplies(1);
      const junk = Buffer.alloc(1 + rand(300));
      for (let j = 0; j < junk.length; j++) junk[j] = rand(256);
      if (i % 3 === 0) plugin.send('Plugin.Type', 1, { kind: 'raw', bytes: junk });
      else plugin.writeRaw(junk);
      y.finish(pluginId);
      await y.closed;
    }
    await until(() => ev.closed === 40);
  });

  it('serves the metric provider next to the traffic router: each dispensed stream gets its own Plugin methods', async () => {
    const metric: MetricProvider = {
      initPlugin: async () => {},
      type: () => 'ALBAnalysisPlugin',
      run: async () => ({ phase: 'Error', message: 'unused' }),
      resume: async () => ({ phase: 'Error' }),
      terminate: async () => ({ phase: 'Error' }),
      garbageCollect: async () => {},
      getMetadata: () => ({}),
    };
    const ev = await start(new StubRouter(), 30_000, undefined, metric);
    // As the controller does: one go-plugin client (one session) per plugin kind, on the same listener.
    const m = await connectAsArgo('RpcMetricProviderPlugin');
    const t = await connectAsArgo('RpcTrafficRouterPlugin');
    for (const p of [m.plugin, t.plugin]) {
      await p.waitForReplies(1);
      p.send('Plugin.Type', 1, { kind: 'nil' });
    }
    expect((await m.plugin.waitForReplies(2))[1]!.body).toBe('ALBAnalysisPlugin');
    expect((await t.plugin.waitForReplies(2))[1]!.body).toBe('ALB');
    // The names of the other kind are not there: net/rpc's own message.
    m.plugin.send('Plugin.SetWeight', 2, { kind: 'nil' });
    t.plugin.send('Plugin.GetMetadata', 2, { kind: 'nil' });
    expect((await m.plugin.waitForReplies(3))[2]!.header.Error).toBe("rpc: can't find method Plugin.SetWeight");
    expect((await t.plugin.waitForReplies(3))[2]!.header.Error).toBe("rpc: can't find method Plugin.GetMetadata");
    // One session may dispense both (ids remember their kind).
    m.control.send('Dispenser.Dispense', 1, { kind: 'string', value: 'RpcTrafficRouterPlugin' });
    expect((await m.control.waitForReplies(2))[1]!.body).toBe(2);
    expect(ev.opened).toBe(2);
  });

  it('without a metric provider, refuses to dispense one with go-plugin\'s message', async () => {
    await start();
    const y = await MiniYamuxClient.connect(server!.address);
    clients.push(y);
    const control = new TestRpcClient(y.open().stream);
    control.send('Dispenser.Dispense', 0, { kind: 'string', value: 'RpcMetricProviderPlugin' });
    const [reply] = await control.waitForReplies(1);
    expect(reply!.header.Error).toBe('unknown plugin type: RpcMetricProviderPlugin');
  });

  it('closes every session when the server closes', async () => {
    const ev = await start();
    const { y } = await connectAsArgo();
    await server!.close();
    server = undefined;
    await y.closed;
    expect(ev.closed).toBe(1);
  });
});
