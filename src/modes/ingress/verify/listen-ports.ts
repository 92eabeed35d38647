// The listener ports an Ingress asks the LBC for (pure): `<prefix>/listen-ports`, a JSON list such as
// `[{"HTTP": 80}, {"HTTPS": 443}]` (pkg/ingress/model_build_listener.go). Without the annotation the LBC makes one
// listener and there is nothing to add mid-rollout, so nothing is waited for. Verification waits until the load
// balancer has a listener
// on each of them with a rule of the Rollout's action: an HTTPS listener added mid-rollout carries its own rules,
// which must carry the weights too. With `<prefix>/ssl-redirect` the HTTP listeners only redirect (no rules).

export interface IngressAnnotationsView {
  metadata?: { annotations?: Record<string, string> | null };
}

/**
 * The ports whose listener must carry the action's rules, sorted; undefined when the annotation cannot be read
 * (then nothing is waited for).
 */
export function expectedListenerPorts(ingress: IngressAnnotationsView, prefix: string): number[] | undefined {
  const annotations = ingress.metadata?.annotations ?? {};
  const raw = annotations[`${prefix}/listen-ports`];
  const redirect = (annotations[`${prefix}/ssl-redirect`] ?? '').trim() !== '';
  if (raw === undefined || raw.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const ports = new Set<number>();
  for (const entry of parsed) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    for (const [protocol, v] of Object.entries(entry as Record<string, unknown>)) {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
      if (redirect && protocol.toUpperCase() === 'HTTP') continue;
      ports.add(n);
    }
  }
  return ports.size > 0 ? [...ports].sort((a, b) => a - b) : undefined;
}
