// The hostnames of a route's ALB rules on one Gateway listener, as the LBC computes them (aws-load-balancer-controller
// pkg/gateway/routeutils/listener_attachment_helper.go, hostnameCheck): they are part of the rule's conditions, by
// which the verifier finds the rule (alb-rules.ts).

/** `host` matches `pattern` (exact, or `*.suffix` matching one or more leading labels). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  return pattern.startsWith('*.') && host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
}

/**
 * The hostnames of a route's ALB rules on one listener: the route's hostnames that the listener's hostname admits
 * (the more specific of the two when one is a wildcard), the listener's hostname when the route has none.
 */
export function effectiveHostnames(routeHosts: readonly string[], listenerHost: string | undefined): string[] {
  if (!listenerHost) return [...routeHosts];
  if (routeHosts.length === 0) return [listenerHost];
  const out: string[] = [];
  for (const h of routeHosts) {
    if (hostMatches(listenerHost, h)) out.push(h);
    else if (hostMatches(h, listenerHost)) out.push(listenerHost);
  }
  return [...new Set(out)];
}
