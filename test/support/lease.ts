// Argo Rollouts' leader Lease as stand-in API servers serve it: held by this test's "pod" and renewed at every
// read, as a live controller's would look to a sidecar polling it. The composed sidecar then leads (and runs
// its Rollout watch) after its second read. Real Leases, written the way client-go's leaderelection writes
// them on a real API server, are test/support/kube/lease.ts.
import { DEFAULT_CONTROLLER_NAMESPACE, DEFAULT_LEASE_NAME } from '../../src/leadership/lease.js';

/** The hostname stand-in sidecars are given (`--leader-election-hostname`); the Lease's holder is `<it>_<uuid>`. */
export const TEST_POD = 'argo-rollouts-test-pod';

/** Flags that make a composed sidecar follow the stand-in Lease below. */
export const FOLLOW_TEST_LEASE = ['--leader-election-hostname', TEST_POD, '--leader-election-namespace', DEFAULT_CONTROLLER_NAMESPACE];

export const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/${DEFAULT_CONTROLLER_NAMESPACE}/leases/${DEFAULT_LEASE_NAME}`;

/** metav1.MicroTime's wire form (RFC3339 with six fractional digits), as client-go writes renewTime. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

let renewals = 0;

/** The Lease held by TEST_POD's controller, renewed just now. */
export function liveLease(holder = `${TEST_POD}_5b0e7f43-9c1d-4e0a-8f6b-2d3c4e5f6a7b`): object {
  renewals++;
  return {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: { name: DEFAULT_LEASE_NAME, namespace: DEFAULT_CONTROLLER_NAMESPACE, resourceVersion: String(1000 + renewals) },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: '2026-12-01T10:00:00.000000Z',
      renewTime: microTime(new Date(Date.UTC(2026, 11, 1, 10, 0, 0) + renewals * 2000)),
      leaseTransitions: 0,
    },
  };
}
