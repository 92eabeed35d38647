// go-plugin's MuxBroker, server half (mux_broker.go): Dispense hands out ids 1, 2, …; the client then opens a
// stream whose first 4 bytes are that id, little-endian, and waits for the same 4 bytes back before it
// starts net/rpc on the stream. The ack must be the first bytes we send on it. Each id remembers the plugin
// name it was dispensed for, since every kind of plugin serves its own methods under the one name `Plugin`.

import type { Duplex } from 'node:stream';
import { UnknownBrokerIdError } from './errors.js';

/** How long a dispensed id waits for its stream, and a stream for its id (go-plugin's 5 s). */
export const BROKER_TIMEOUT_MS = 5_000;

export class BrokerIds {
  private last = 0;
  /** Id → the plugin name it was dispensed for. */
  private readonly outstanding = new Map<number, string>();

  /** Reserves the next id for `plugin` (go-plugin: atomic.AddUint32(&nextId, 1), so the first is 1). */
  next(plugin: string): number {
    this.last = (this.last + 1) >>> 0;
    this.outstanding.set(this.last, plugin);
    return this.last;
  }

  /** Claims an id for a stream, returning the plugin name it was dispensed for; each id can be claimed once. */
  claim(id: number): string | undefined {
    const plugin = this.outstanding.get(id);
    this.outstanding.delete(id);
    return plugin;
  }
}

export interface BrokerAccept {
  id: number;
  /** The plugin name Dispense handed the id out for. */
  plugin: string;
  /** Bytes that followed the id in the same frame (the start of the first net/rpc request). */
  rest: Buffer;
}

/**
 * Reads the id from a fresh broker stream, checks it, writes the ack and leaves the stream paused with any
 * extra bytes returned. Rejects (without writing anything) on an unknown id, an early end, or a timeout.
 */
export function acceptBrokerStream(stream: Duplex, ids: BrokerIds, timeoutMs = BROKER_TIMEOUT_MS): Promise<BrokerAccept> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      clearTimeout(timer);
      stream.pause();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      length += chunk.length;
      if (length < 4) return;
      cleanup();
      const all = Buffer.concat(parts, length);
      const id = all.readUInt32LE(0);
      const plugin = ids.claim(id);
      if (plugin === undefined) {
        reject(new UnknownBrokerIdError(id));
        return;
      }
      stream.write(all.subarray(0, 4));
      resolve({ id, plugin, rest: all.subarray(4) });
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`go-plugin broker: stream closed after ${length} of the 4 id bytes`));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`go-plugin broker: no stream id within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}
