// A leader elector that writes the Lease exactly as client-go's leaderelection does for Argo Rollouts'
// controller (k8s.io/client-go v0.34.5 tools/leaderelection `tryAcquireOrRenew`, resourcelock/leaselock.go
// `LeaderElectionRecordToLeaseSpec`): every retry period it renews optimistically while it leads; otherwise it
// reads the Lease, creates it when absent, and takes it over only once the record it observed has not changed
// for leaseDurationSeconds on its own clock. It writes holderIdentity, leaseDurationSeconds, acquireTime and
// renewTime (metav1.MicroTime: six fractional digits) and leaseTransitions (+1 on a change of holder), with a
// full update guarded by resourceVersion. Stopping it stops renewing without releasing the Lease, as Argo's
// controller does (ReleaseOnCancel: false in controller/controller.go): the Lease then expires.
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { microTime } from '../lease.js';

export interface LeaseRecordWire {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

export interface ElectorOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  /** `<hostname>_<uuid>`, as Argo's controller builds it. */
  identity: string;
  leaseDurationSeconds?: number;
  retryPeriodMs?: number;
}

export interface Elector {
  isLeader(): boolean;
  /** Date.now() of the write that acquired the Lease (undefined while not leading). */
  acquiredAt(): number | undefined;
  /** Resolves with acquiredAt() once this elector leads. */
  untilLeader(timeoutMs: number): Promise<number>;
  /** Writes made (create or update). */
  writes(): number;
  /** Stops renewing; the Lease stays as last written. */
  stop(): Promise<void>;
}

function specOf(l: V1Lease): LeaseRecordWire {
  const s = (JSON.parse(JSON.stringify(l.spec ?? {})) as Partial<LeaseRecordWire>);
  return {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: s.acquireTime ?? '',
    renewTime: s.renewTime ?? '',
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

export function startElector(o: ElectorOptions): Elector {
  const api = o.kc.makeApiClient(CoordinationV1Api);
  const duration = o.leaseDurationSeconds ?? 15;
  const retryMs = o.retryPeriodMs ?? 2000;
  let observed: LeaseRecordWire | undefined;
  let observedRaw = '';
  let observedTime = 0;
  let lease: V1Lease | undefined;
  let acquired: number | undefined;
  let writes = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const isLeader = () => observed?.holderIdentity === o.identity;
  const leaseValid = (now: number) => observed !== undefined && observedTime + observed.leaseDurationSeconds * 1000 > now;
  const setObserved = (r: LeaseRecordWire, now: number) => {
    observed = r;
    observedRaw = JSON.stringify(r);
    observedTime = now;
  };

  async function update(r: LeaseRecordWire): Promise<void> {
    const body = { ...lease!, spec: { ...r } } as unknown as V1Lease;
    lease = await api.replaceNamespacedLease({ namespace: o.namespace, name: o.name, body });
    writes++;
  }

  async function tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const record: LeaseRecordWire = { holderIdentity: o.identity, leaseDurationSeconds: duration, acquireTime: microTime(new Date(now)), renewTime: microTime(new Date(now)), leaseTransitions: 0 };
    // 1. Fast path: the leader renews, assuming the Lease is as it last wrote it.
    if (isLeader() && leaseValid(now) && lease) {
      const r = { ...record, acquireTime: observed!.acquireTime, leaseTransitions: observed!.leaseTransitions };
      try {
        await update(r);
        setObserved(r, Date.now());
        return true;
      } catch {
        // falling back to the slow path
      }
    }
    // 2. Obtain or create.
    let old: LeaseRecordWire;
    try {
      lease = await api.readNamespacedLease({ namespace: o.namespace, name: o.name });
      old = specOf(lease);
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) return false;
      try {
        lease = await api.createNamespacedLease({ namespace: o.namespace, body: { metadata: { name: o.name, namespace: o.namespace }, spec: record as unknown as V1Lease['spec'] } });
        writes++;
      } catch {
        return false;
      }
      setObserved(record, Date.now());
      acquired = Date.now();
      return true;
    }
    // 3. Observed a new record: restart the lease period from now.
    if (JSON.stringify(old) !== observedRaw) setObserved(old, now);
    if (old.holderIdentity !== '' && leaseValid(now) && !isLeader()) return false;
    // 4. Take over (or renew on the slow path).
    const wasLeader = isLeader();
    const r = wasLeader ? { ...record, acquireTime: old.acquireTime, leaseTransitions: old.leaseTransitions } : { ...record, leaseTransitions: old.leaseTransitions + 1 };
    try {
      await update(r);
    } catch {
      return false;
    }
    setObserved(r, Date.now());
    if (!wasLeader) acquired = Date.now();
    return true;
  }

  function loop(): void {
    if (stopped) return;
    running = tryAcquireOrRenew().then(
      () => undefined,
      () => undefined,
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(loop, retryMs);
    });
  }
  loop();

  return {
    isLeader: () => isLeader() && acquired !== undefined,
    acquiredAt: () => (isLeader() ? acquired : undefined),
    async untilLeader(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const at = isLeader() ? acquired : undefined;
        if (at !== undefined) return at;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${o.identity} did not acquire Lease ${o.namespace}/${o.name} within ${timeoutMs} ms`);
    },
    writes: () => writes,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
