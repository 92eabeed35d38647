// The sandbox's demo application: a Rollout in Ingress mode with the steps a newcomer would try first.
import { ingress, rollout, services } from '../test/e2e/support/app.js';

export const DEMO_NS = 'demo';
export const DEMO = 'shop';
export const STABLE = 'shop-stable';
export const CANARY = 'shop-canary';
export const PLUGIN = 'argoproj-labs/alb';
export const DEMO_REPLICAS = 2;

export const DEMO_STEPS = [
  { label: 'setWeight 20', weight: 20 },
  { label: 'pause 15s', weight: undefined },
  { label: 'setWeight 50', weight: 50 },
  { label: 'pause (until you promote)', weight: undefined },
] as const;

export function demoManifests(): string {
  return (
    services([STABLE, CANARY], DEMO) +
    ingress(DEMO, STABLE) +
    rollout(DEMO, DEMO, `
canary:
  stableService: ${STABLE}
  canaryService: ${CANARY}
  trafficRouting:
    plugins:
      ${PLUGIN}:
        ingress: ${DEMO}
        servicePort: 80
  steps:
  - setWeight: 20
  - pause: {duration: 15}
  - setWeight: 50
  - pause: {}
`, { replicas: DEMO_REPLICAS, image: 'registry.example.com/shop:1.0.0' })
  );
}
