// The local sandbox: the whole end-to-end stack on loopback (kube-apiserver, kube-controller-manager, kwok, moto,
// the AWS Load Balancer Controller, the Argo Rollouts controller with the plugin as deploy/ installs it), a demo
// Rollout taken through its steps with a live line per change, then left running for you to play with.
//
//   node .cache/sandbox-js/sandbox/main.js           # interactive: runs until Ctrl-C
//   node .cache/sandbox-js/sandbox/main.js --once    # stops at the first verified canary step (used by tests)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canaryShare, Observer } from '../test/e2e/support/observe.js';
import { REPO_ROOT } from '../test/support/kube/assets.js';
import { startStack, type Stack } from '../test/e2e/support/stack.js';
import { sleep } from '../test/support/processes.js';
import { CANARY, DEMO, DEMO_NS, DEMO_REPLICAS, DEMO_STEPS, demoManifests, STABLE } from './demo.js';
import { snapshot, type Snapshot } from './snapshot.js';

const once = process.argv.includes('--once');
const stateDir = join(REPO_ROOT, '.cache/sandbox');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function render(s: Snapshot): string {
  const step = s.step === undefined ? 'done' : `${s.step + 1}/${DEMO_STEPS.length} ${DEMO_STEPS[s.step]?.label ?? 'complete'}`;
  const alb = s.alb ? `canary ${canaryShare(s.alb, CANARY)} / stable ${100 - (canaryShare(s.alb, CANARY) ?? 0)}` : 'not built yet';
  return [
    `[${new Date().toISOString().slice(11, 19)}] step ${step}`,
    `phase ${s.phase ?? '-'}`,
    `Rollout canary ${s.statusWeight ?? 0}`,
    `Ingress action canary ${s.ingressWeight ?? '-'}`,
    `ALB rule ${alb}`,
    `targets canary ${s.canaryTargets}, stable ${s.stableTargets}`,
    `verified ${s.verified === undefined ? '-' : s.verified ? 'yes' : 'not yet'}`,
  ].join(' | ');
}

let stack: Stack | undefined;

async function main(): Promise<void> {
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      say('stopping the sandbox (every process and temporary file goes)...');
      await stack?.stop();
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  say('starting the sandbox stack on 127.0.0.1 (about 30 s)...');
  const t0 = Date.now();
  stack = await startStack({ progress: (line) => say(`  - ${line}`) });
  say(`stack up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  mkdirSync(stateDir, { recursive: true });
  const kubeconfig = join(stateDir, 'kubeconfig');
  writeFileSync(kubeconfig, (await import('node:fs')).readFileSync(stack.env.kubeconfigPath, 'utf8'), { mode: 0o600 });
  const o = new Observer(stack);

  say(`creating namespace ${DEMO_NS}: Services ${STABLE}/${CANARY}, Ingress ${DEMO} (ALB via the LBC), Rollout ${DEMO}`);
  await o.core.createNamespace({ body: { metadata: { name: DEMO_NS } } });
  await stack.apply(demoManifests(), DEMO_NS);
  await o.untilHealthy(DEMO_NS, DEMO);
  await o.until('the ALB rule', () => o.albWeights(DEMO_NS, DEMO, STABLE), 120_000, () => o.diagnose(DEMO_NS, DEMO));
  // A Healthy Rollout only says its pods are ready: the LBC registers them in the target group a little later,
  // and "healthy" here means what the ALB serves.
  await o.until(
    `${DEMO_REPLICAS} healthy targets in the stable target group`,
    async () => ((await o.targets(DEMO_NS, STABLE)).filter((t) => t.state === 'healthy').length === DEMO_REPLICAS ? true : undefined),
    120_000,
    () => o.diagnose(DEMO_NS, DEMO),
  );
  say('first revision healthy; the ALB forwards 100 % to the stable target group');
  say('new image registry.example.com/shop:2.0.0: the canary starts');
  await o.setImage(DEMO_NS, DEMO, 'registry.example.com/shop:2.0.0');

  let last = '';
  let announced = false;
  for (;;) {
    const s = await snapshot(o).catch(() => undefined);
    if (s) {
      const line = render(s);
      const key = line.slice(line.indexOf(']') + 1);
      if (key !== last) {
        say(line);
        last = key;
      }
      if (once && s.step !== undefined && s.step >= 1 && s.verified && canaryShare(s.alb, CANARY) === 20) {
        say('sandbox: verified canary at 20 % (--once): stopping');
        await stop(0);
      }
      if (!announced && s.step === 3 && s.paused) {
        announced = true;
        say('');
        say('The Rollout waits at its last pause with 50 % on the canary, verified on the ALB. Try, in another terminal:');
        say(`  export KUBECONFIG=${kubeconfig}`);
        say('  bash scripts/sandbox.sh promote      # kubectl argo rollouts promote shop -n demo');
        say('  bash scripts/sandbox.sh abort        # kubectl argo rollouts abort shop -n demo');
        say('  bash scripts/sandbox.sh image 3.0.0  # kubectl argo rollouts set image shop app=...:3.0.0 -n demo');
        say('  curl -s localhost:8095/api/v1/rollouts/demo/shop/verify   # the sidecar\'s verdict');
        say('  curl -s localhost:8095/metrics | grep alb_plugin_');
        say('Ctrl-C stops everything.');
        say('');
      }
    }
    await sleep(1000);
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`sandbox failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  await stack?.stop().catch(() => undefined);
  process.exit(1);
});
