// ELBv2 ARNs as AWS forms them (pure): the load balancer an ARN of its listener or rule belongs to, and the
// `fullName` Argo and CloudWatch use (the ARN's resource after `loadbalancer/` or after the account:
// `app/<name>/<id>`, `targetgroup/<name>/<id>`).

const ELB = /^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:)(loadbalancer|listener|listener-rule|targetgroup)\/(.+)$/;

/** `…:listener/app/<name>/<id>/<l>` or `…:listener-rule/app/<name>/<id>/<l>/<r>` → `…:loadbalancer/app/<name>/<id>`. */
export function loadBalancerArnOf(arn: string): string | undefined {
  const m = ELB.exec(arn);
  if (!m) return undefined;
  const [, head, kind, rest] = m;
  const parts = rest!.split('/');
  if (kind === 'loadbalancer') return arn;
  if ((kind === 'listener' || kind === 'listener-rule') && parts.length >= 3) return `${head}loadbalancer/${parts.slice(0, 3).join('/')}`;
  return undefined;
}

/** The resource part of a load balancer or target group ARN: `app/<name>/<id>`, `targetgroup/<name>/<id>`. */
export function elbFullName(arn: string): string | undefined {
  const m = ELB.exec(arn);
  if (!m) return undefined;
  const [, , kind, rest] = m;
  if (kind === 'loadbalancer') return rest;
  if (kind === 'targetgroup') return `targetgroup/${rest}`;
  return undefined;
}

/** The name in a load balancer or target group ARN. */
export function elbName(arn: string): string | undefined {
  const full = elbFullName(arn);
  if (!full) return undefined;
  const parts = full.split('/');
  return parts[0] === 'targetgroup' ? parts[1] : parts[1];
}
