// The modes this sidecar serves, in the order the mode table asks them whether they claim a plugin block
// (src/plugin/mode-table.ts): the last one takes every block no other claims. A new mode is a new folder with
// an index.ts exporting its factory, and one entry here.

import type { ModeFactory } from './deps.js';
import { createGatewayMode } from './gateway/index.js';
import { createIngressMode } from './ingress/index.js';
import { createListenerRuleMode } from './listener-rule/index.js';

export type { ModeDeps, ModeFactory } from './deps.js';

export const MODES: readonly ModeFactory[] = [createGatewayMode, createListenerRuleMode, createIngressMode];
