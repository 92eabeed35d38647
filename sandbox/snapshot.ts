// One look at the demo Rollout from every side a user would check: its status, the Ingress action, the ALB
// rule read back from ELBv2, the registered targets and the sidecar's verdict.
import type { Observer } from '../test/e2e/support/observe.js';
import { CANARY, DEMO, DEMO_NS, STABLE } from './demo.js';

export interface Snapshot {
  step: number | undefined;
  phase: string | undefined;
  paused: boolean;
  statusWeight: number | undefined;
  ingressWeight: number | undefined;
  alb: Record<string, number> | undefined;
  canaryTargets: string;
  stableTargets: string;
  verified: boolean | undefined;
}

function targetSummary(t: Array<{ state: string }>): string {
  return `${t.filter((x) => x.state === 'healthy').length}/${t.length} healthy`;
}

export async function snapshot(o: Observer): Promise<Snapshot> {
  const ro = await o.rollout(DEMO_NS, DEMO);
  const steps = ro.spec.strategy.canary?.steps?.length ?? 0;
  const s = ro.status ?? {};
  const ann = (await o.ingress(DEMO_NS, DEMO)).metadata?.annotations ?? {};
  const action = ann[`alb.ingress.kubernetes.io/actions.${STABLE}`];
  let ingressWeight: number | undefined;
  if (action) {
    const tgs = (JSON.parse(action) as { ForwardConfig: { TargetGroups: Array<{ ServiceName: string; Weight: number }> } }).ForwardConfig.TargetGroups;
    ingressWeight = tgs.find((t) => t.ServiceName === CANARY)?.Weight ?? 0;
  }
  const api = await o.sidecarApi(DEMO_NS, DEMO).catch(() => undefined);
  return {
    step: s.currentStepIndex !== undefined && s.currentStepIndex < steps ? s.currentStepIndex : undefined,
    phase: s.phase,
    paused: (s as { pauseConditions?: unknown[] }).pauseConditions !== undefined && ((s as { pauseConditions?: unknown[] }).pauseConditions?.length ?? 0) > 0,
    statusWeight: s.canary?.weights?.canary.weight,
    ingressWeight,
    alb: await o.albWeights(DEMO_NS, DEMO, STABLE),
    canaryTargets: targetSummary(await o.targets(DEMO_NS, CANARY)),
    stableTargets: targetSummary(await o.targets(DEMO_NS, STABLE)),
    verified: api?.verified,
  };
}
