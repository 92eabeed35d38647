// Shared builders for the verifier tests: Rollouts and weight requests in the shape the router hands over.
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2, type CallOutcome, type Elbv2 } from '../../src/aws/elbv2.js';
import type { Rollout, WeightDestination } from '../../src/core/rollout.js';
import { ingressesTarget, type EffectiveServices, type WeightRequest } from '../../src/modes/ingress/view.js';
import type { Clock } from '../../src/aws/token-bucket.js';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../support/moto.js';

let uid = 0;

export function rollout(opts: {
  namespace?: string;
  steps?: Array<Record<string, unknown>>;
  stepIndex?: number | null;
  stableRS?: string;
  currentPodHash?: string;
  uid?: string;
  abort?: boolean;
  canaryWeight?: number;
} = {}): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'rollout', namespace: opts.namespace ?? 'default', uid: opts.uid ?? `uid-${++uid}` },
    spec: { strategy: { canary: { stableService: 'stable-svc', canaryService: 'canary-svc', steps: (opts.steps ?? [{ setWeight: 10 }]) as never } } },
    status: {
      stableRS: opts.stableRS ?? 'stable-hash',
      currentPodHash: opts.currentPodHash ?? 'canary-hash',
      currentStepIndex: opts.stepIndex === undefined ? 0 : opts.stepIndex,
      ...(opts.abort ? { abort: true } : {}),
      ...(opts.canaryWeight !== undefined
        ? { canary: { weights: { canary: { weight: opts.canaryWeight, serviceName: 'canary-svc' }, stable: { weight: 100 - opts.canaryWeight, serviceName: 'stable-svc' } } } }
        : {}),
    },
  };
}

export function request(opts: {
  rollout?: Rollout;
  ingresses?: string[];
  servicePort?: number;
  desired?: number;
  destinations?: WeightDestination[];
  services?: Partial<EffectiveServices>;
  maxWeight?: number;
}): WeightRequest {
  const port = opts.servicePort ?? 443;
  const config = {
    ingresses: (opts.ingresses ?? ['ingress']).map((name) => ({ name, servicePort: port })),
    singleIngress: (opts.ingresses ?? ['ingress']).length === 1,
    servicePort: port,
    annotationPrefix: 'alb.ingress.kubernetes.io',
  };
  return {
    rollout: opts.rollout ?? rollout(),
    target: JSON.stringify(['ingress', ingressesTarget(config)]),
    config,
    services: { stable: 'stable-svc', canary: 'canary-svc', action: 'stable-svc', pingPong: false, ...opts.services },
    desiredWeight: opts.desired ?? 10,
    additionalDestinations: opts.destinations ?? [],
    maxWeight: opts.maxWeight ?? 100,
  };
}

/** Counts attempts by operation, as the metrics endpoint will. */
export class CallLog {
  readonly calls: Array<[string, CallOutcome]> = [];
  onCall = (op: string, outcome: CallOutcome): void => {
    this.calls.push([op, outcome]);
  };
  total(): number {
    return this.calls.length;
  }
  ops(): string[] {
    return this.calls.map(([op]) => op);
  }
  clear(): void {
    this.calls.length = 0;
  }
}

export const instantClock: Clock = { now: () => Date.now(), sleep: async () => {} };

export function testElbv2(endpoint: string, log: CallLog, extra: Partial<Parameters<typeof createElbv2>[0]> = {}): Elbv2 {
  return createElbv2({
    rateLimit: 1000,
    rateBurst: 1000,
    client: new ElasticLoadBalancingV2Client({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 }),
    onCall: log.onCall,
    ...extra,
  });
}
