import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/settings.js';
import { createVerification, verificationTimeoutMs } from '../../src/verify/wiring.js';
import { CallLog, request, rollout, testElbv2 } from './fixtures.js';

describe('createVerification', () => {
  it('verification off (the default): the guard never holds, targets are not enabled, no ELBv2 call', async () => {
    const log = new CallLog();
    const { settings } = parseSettings([], {});
    const v = createVerification(settings, { elbv2: testElbv2('http://127.0.0.1:9', log) });
    const req = request({ rollout: rollout({ stableRS: 'n', currentPodHash: 'n', canaryWeight: 100 }), desired: 0 });
    expect(v.targetsEnabled).toBe(false);
    expect(await v.guard.beforeSetWeight(req)).toEqual({ hold: false });
    expect(log.total()).toBe(0);
  });

  it('on without Kubernetes access: targets say why they cannot be, and the guard is off (it could never release)', async () => {
    const { settings } = parseSettings(['--aws-verify-target-group'], {});
    const v = createVerification(settings, { elbv2: testElbv2('http://127.0.0.1:9', new CallLog()) });
    expect(v.targetsEnabled).toBe(false);
    expect((await v.targets.verifyTargets('default', 'svc')).error).toBe('no Kubernetes access configured for target verification');
    const req = request({ rollout: rollout({ stableRS: 'n', currentPodHash: 'n', canaryWeight: 100 }), desired: 0 });
    expect(await v.guard.beforeSetWeight(req)).toEqual({ hold: false });
  });

  it.each([
    [25, 20_000],
    [1, 1000],
  ])('deadline for an RPC timeout of %s s is %s ms', (s, ms) => {
    expect(verificationTimeoutMs(s)).toBe(ms);
  });
});
