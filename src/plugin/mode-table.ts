// The one place that decides which mode a Rollout is in: the first mode in the list that claims the Rollout's
// plugin block, the last one taking any block (also one that is not an object, which its parser refuses).
// The mode router, the cleanup controller and the HTTP API all ask here.

import { isObject } from '../core/fields.js';
import { pluginBlock, usesPlugin } from '../core/plugin-block.js';
import type { Rollout } from '../core/rollout.js';
import type { Mode } from './mode.js';

export class ModeTable {
  constructor(
    readonly pluginName: string,
    readonly modes: readonly Mode[],
  ) {
    if (modes.length === 0) throw new Error('ModeTable needs at least one mode');
  }

  /** The mode a plugin block asks for. */
  ofBlock(block: unknown): Mode {
    const fallback = this.modes[this.modes.length - 1]!;
    if (!isObject(block)) return fallback;
    return this.modes.find((m) => m.claims(block)) ?? fallback;
  }

  /** The Rollout's mode, or undefined when it does not name this plugin under `trafficRouting.plugins`. */
  of(rollout: Rollout): Mode | undefined {
    return usesPlugin(rollout, this.pluginName) ? this.ofBlock(pluginBlock(rollout, this.pluginName)) : undefined;
  }
}
