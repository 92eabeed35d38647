import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/settings.js';
import { RpcVerified } from '../../src/plugin/router.js';
import type { IngressClient } from '../../src/k8s/ingress-client.js';
import { createVerification, verificationTimeoutMs, type VerificationDeps } from '../../src/verify/wiring.js';
import { CallLog, request, rollout, testElbv2 } from './fixtures.js';

// The router's IngressClient.get plugs straight in (checked by the compiler).
export const fromIngressClient = (client: IngressClient): VerificationDeps['getIngress'] => (ns, name) => client.get(ns, name);

describe('createVerification', () => {
  it('verification off (the default): NotImplemented, the guard never holds, no ELBv2 and no Ingress call', async () => {
    const log = new CallLog();
    let ingressReads = 0;
    const { settings } = parseSettings([], {});
    const v = createVerification(settings, {
      elbv2: testElbv2('http://127.0.0.1:9', log),
      getIngress: async () => {
        ingressReads++;
        return {};
      },
    });
    const req = request({ rollout: rollout({ stableRS: 'n', currentPodHash: 'n', canaryWeight: 100 }), desired: 0 });
    expect(await v.weights.verifyWeight(req)).toEqual({ verified: RpcVerified.NotImplemented });
    expect(await v.guard.beforeSetWeight(req)).toEqual({ hold: false });
    expect(log.total()).toBe(0);
    expect(ingressReads).toBe(0);
  });

  it('on without Kubernetes access: weights are checked, targets say why they cannot be', async () => {
    const { settings } = parseSettings(['--aws-verify-target-group'], {});
    const v = createVerification(settings, { elbv2: testElbv2('http://127.0.0.1:9', new CallLog()), getIngress: async () => ({}) });
    const report = await v.weights.report(request({}));
    expect(report.reasons).toEqual(['Ingress default/ingress has no load-balancer hostname in its status yet']);
    expect((await v.targets.verifyTargets('default', 'svc')).error).toBe('no Kubernetes access configured for target verification');
  });

  it.each([
    [25, 20_000],
    [1, 1000],
  ])('deadline for an RPC timeout of %s s is %s ms', (s, ms) => {
    expect(verificationTimeoutMs(s)).toBe(ms);
  });
});
