// Keeps the last seen state of every Rollout and tells every mode's cleanup (src/plugin/mode.ts) when one is
// added, changed or deleted, and at each sweep: each mode releases what the Rollout no longer holds in it
// (Ingress annotations, a listener rule, HTTPRoute rules). Fed by the Rollout watch (watch.ts); the sweep
// catches what the watch could not see (deletions while the sidecar was down, releases that failed). Every
// Rollout is remembered, not only this plugin's, so the sweep can tell "gone" from "managed by someone else".

import { rolloutId, type Rollout } from '../core/rollout.js';
import type { Logger } from '../logger.js';
import type { CleanupContext, Mode, ReleaseOutcome } from '../plugin/mode.js';
import type { ModeTable } from '../plugin/mode-table.js';

export interface CleanupControllerOptions {
  modes: ModeTable;
  logger?: Logger;
  /** Told about every deleted Rollout (the event sink drops its state). */
  onDeleted?: (rollout: Rollout) => void;
  /**
   * Reads a Rollout from the API server (undefined: it does not exist). The sweep asks it before releasing,
   * because the watch can lag: a Rollout created a moment ago may already have written its entry.
   */
  readRollout?: (namespace: string, name: string) => Promise<Rollout | undefined>;
}

export class CleanupController {
  private readonly seen = new Map<string, Rollout>();
  private readonly contexts: Map<Mode, CleanupContext>;

  constructor(private readonly opts: CleanupControllerOptions) {
    this.contexts = new Map(opts.modes.modes.map((m) => [m, this.contextFor(m)]));
  }

  get(namespace: string, name: string): Rollout | undefined {
    return this.seen.get(rolloutId(namespace, name));
  }

  /** A Rollout was added or changed: every mode releases what it no longer holds there. */
  async upsert(rollout: Rollout): Promise<ReleaseOutcome[]> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    const prev = this.seen.get(id);
    this.seen.set(id, rollout);
    return this.each((m, ctx) => m.cleanup.changed(rollout, prev, ctx));
  }

  /** A Rollout was deleted: every mode releases what it held there, as of its last state. */
  async remove(rollout: Rollout): Promise<ReleaseOutcome[]> {
    const id = rolloutId(rollout.metadata.namespace, rollout.metadata.name);
    const last = this.seen.get(id);
    this.seen.delete(id);
    this.opts.onDeleted?.(rollout);
    return this.each((m, ctx) => m.cleanup.deleted(rollout, last, ctx));
  }

  /** Only call this once the watch has listed every Rollout. */
  sweep(): Promise<ReleaseOutcome[]> {
    return this.each((m, ctx) => m.cleanup.sweep(ctx));
  }

  private async each(work: (mode: Mode, ctx: CleanupContext) => Promise<ReleaseOutcome[]>): Promise<ReleaseOutcome[]> {
    return (await Promise.all([...this.contexts].map(([m, ctx]) => work(m, ctx)))).flat();
  }

  private contextFor(mode: Mode): CleanupContext {
    const table = this.opts.modes;
    const read = this.opts.readRollout;
    return {
      placeOf: (r) => {
        const m = table.of(r);
        return m === undefined ? 'none' : m === mode ? 'here' : 'elsewhere';
      },
      readable: (r) => table.of(r)?.readable(r) ?? true,
      seen: (ns, name) => this.get(ns, name),
      ...(read ? { read } : {}),
    };
  }
}
