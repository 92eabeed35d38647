// Shapes of Ingress mode: the normalised plugin configuration (parsed in config.ts) and the bookkeeping keys.
// This file only declares.

import type { StickinessConfig } from '../../core/stickiness.js';

export const DEFAULT_ANNOTATION_PREFIX = 'alb.ingress.kubernetes.io';
/**
 * This plugin's bookkeeping: Rollout name → the annotation keys it owns on the Ingress (same JSON shape as
 * Argo's). It must not be Argo's key: Argo's Ingress controller resolves every entry of its own key through
 * `trafficRouting.alb` only, so it takes a plugin-driven Rollout's entry for an orphan and resets its action
 * to 100 % within milliseconds (measured under the real controller; test/e2e/migration.e2e.ts guards it).
 */
export const PLUGIN_MANAGED_KEY = 'alb.rollouts.argoproj-labs.io/managed-annotations';
/**
 * The built-in router's bookkeeping. Read for claims (a key a built-in Rollout drives is not ours to write)
 * and for hand-over: when a Rollout moves from `trafficRouting.alb` to this plugin, its own entry there is
 * removed in the same write that records it under PLUGIN_MANAGED_KEY, so Argo has nothing left to reset.
 */
export const ARGO_MANAGED_KEY = 'rollouts.argoproj.io/managed-alb-annotations';

export interface IngressTarget {
  /** Ingress name, in the Rollout's namespace. */
  name: string;
  /** Port written into every target group of this Ingress's action (per-Ingress override, Argo #3551). */
  servicePort: number;
}

/**
 * The plugin block of a Rollout after parsing, defaulting and normalising `ingress` / `ingresses`
 * (plain names or `{name, servicePort}` objects) into one list.
 */
export interface AlbPluginConfig {
  ingresses: IngressTarget[];
  /** True when the user wrote `ingress` (single); error paths then say `ingress`, else `ingresses`. */
  singleIngress: boolean;
  servicePort: number;
  rootService?: string;
  annotationPrefix: string;
  stickinessConfig?: StickinessConfig;
}

