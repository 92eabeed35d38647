// Ingress status hostname → load balancer: the rules live with the shared discovery (src/aws/hostname.ts), which
// Gateway mode's addresses use too.
export { loadBalancerNameFromHostname, sameLoadBalancerHost } from '../../../aws/hostname.js';
