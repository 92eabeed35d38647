// Listener-rule mode's one door: the rest of src reaches the mode only through its `Mode` (src/plugin/mode.ts).
export { createListenerRuleMode } from './mode.js';
