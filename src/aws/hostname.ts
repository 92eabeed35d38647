// A load balancer's status hostname (an Ingress's, a Gateway's address) → its name (lbc-elbv2.md §2.5). ALB DNS names are
// `[internal-]<lb-name>-<decimal id>.<region>.elb.amazonaws.com`; LB names cannot start with `internal-`,
// so the name is recoverable and one DescribeLoadBalancers(Names) call finds the LB.

const INTERNAL = 'internal-';

/** The LB name a hostname was derived from, or undefined when the hostname has no `-<id>` suffix. */
export function loadBalancerNameFromHostname(hostname: string): string | undefined {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith(INTERNAL)) host = host.slice(INTERNAL.length);
  const label = host.split('.')[0] ?? '';
  const m = /^(.+)-[0-9a-f]+$/.exec(label);
  return m ? m[1] : undefined;
}

/**
 * True when an LB's DNSName is the one an Ingress status shows. Case is ignored (the LBC lower-cases
 * the status) and so is the `internal-` prefix, which moto leaves out of internal LBs' DNS names.
 */
export function sameLoadBalancerHost(dnsName: string | undefined, hostname: string): boolean {
  if (!dnsName) return false;
  const norm = (h: string): string => {
    const l = h.trim().toLowerCase().replace(/\.$/, '');
    return l.startsWith(INTERNAL) ? l.slice(INTERNAL.length) : l;
  };
  return norm(dnsName) === norm(hostname);
}
