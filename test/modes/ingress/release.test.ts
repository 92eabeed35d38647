// Ports of Argo's ingress/alb_test.go (spec §9.3) against releaseRollout. Argo's fixture is an
// extensions/v1beta1 Ingress; we keep its annotations and use networking.k8s.io/v1 (the only mode we support).
import { describe, expect, it } from 'vitest';
import { applyIngressEdit, type Ingress } from '../../../src/k8s/ingress.js';
import { ManagedAnnotationsError } from '../../../src/modes/ingress/managed.js';
import { releaseRollout, releaseTargetFor, type ReleaseTarget } from '../../../src/modes/ingress/release.js';
import { makeRollout, MANAGED, PLUGIN, PREFIX } from './fixtures.js';

const X = `${PREFIX}/actions.stable-service`;
const XC = `${PREFIX}/conditions.stable-service`;
const STICKY = ',"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":300}';
const tgs = (canary: string, stable: string, port: number, c: number, s: number) =>
  `{"ServiceName":"${canary}","ServicePort":"${port}","Weight":${c}},{"ServiceName":"${stable}","ServicePort":"${port}","Weight":${s}}`;
const argoAction = (sticky = false) =>
  `{"Type":"forward","ForwardConfig":{"TargetGroups":[${tgs('canary-service', 'stable-service', 80, 15, 85)}]${sticky ? STICKY : ''}}}`;
const RESET = '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-service","ServicePort":"80","Weight":100}]}}';

function argoIngress(annotations: Record<string, string>): Ingress {
  return {
    metadata: { name: 'test-ingress', namespace: 'default', resourceVersion: '7', annotations: { 'kubernetes.io/ingress.class': 'alb', ...annotations } },
    spec: {
      rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'stable-service', port: { name: 'use-annotation' } } } }] } }],
    },
  };
}

const target: ReleaseTarget = { rolloutName: 'rollout', stableService: 'stable-service', servicePort: 80, actionKey: X };

describe('releaseRollout: Argo ingress/alb_test.go cases', () => {
  it.each([
    // Argo returns nil and does nothing; we refuse loudly instead of swallowing it (§11.8), so the caller logs it.
    ['TestInvalidManagedALBActions', 'invalid-managed-by'],
    ['TestInvalidPreviousALBActionAnnotationKey', 'invalid-action-key'],
  ])('%s: an unreadable managed annotation is an error, nothing is written', (_name, managed) => {
    expect(() => releaseRollout(argoIngress({ [X]: argoAction(), [MANAGED]: managed }), target)).toThrow(ManagedAnnotationsError);
  });

  it.each([
    // Corrected (§11.8): Argo aborts the whole cleanup when the old value cannot be parsed or has no port for the
    // key's service. We know the effective stable service and port from the Rollout, so the reset still happens.
    ['TestInvalidPreviousALBActionAnnotationValue', '{'],
    ['TestResetActionFailureFindNoPort', '{}'],
  ])('%s: corrected, the action is reset anyway', (_name, value) => {
    const edit = releaseRollout(argoIngress({ [X]: value, [XC]: '[]', [MANAGED]: `{"rollout":["${X}","${XC}"]}` }), target);
    expect(edit.annotations).toEqual({ [X]: RESET, [XC]: null, [MANAGED]: null });
  });

  it('TestALBIngressNoModifications: a Rollout with no entry changes nothing', () => {
    const ing = argoIngress({ [X]: argoAction(), [MANAGED]: `{"other":["${X}"]}` });
    expect(releaseRollout(ing, target)).toEqual({ annotations: {} });
  });

  it.each([
    ['TestALBIngressResetAction', false, RESET],
    ['TestALBIngressResetActionWithStickyConfig', true,
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-service","ServicePort":"80","Weight":100}],"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":300}}}'],
  ])('%s: 100 %% to stable, managed annotation removed (conditions removed too: corrected, Argo leaves them)', (_name, sticky, expected) => {
    const ing = argoIngress({ [X]: argoAction(sticky), [XC]: '[]', [MANAGED]: `{"rollout":["${X}","${XC}"]}` });
    const edit = releaseRollout(ing, target);
    expect(edit).toEqual({ annotations: { [X]: expected, [XC]: null, [MANAGED]: null } });
    const after = applyIngressEdit(ing, edit);
    expect(after.metadata.annotations).toEqual({ 'kubernetes.io/ingress.class': 'alb', [X]: expected });
    expect(releaseRollout(after, target)).toEqual({ annotations: {} });
  });
});

describe('releaseRollout: cases Argo gets wrong (§3.4 failure modes)', () => {
  it('rootService: the key names the root, the reset goes to the effective stable service', () => {
    const key = `${PREFIX}/actions.root`;
    const ing = argoIngress({ [key]: `{"Type":"forward","ForwardConfig":{"TargetGroups":[${tgs('canary-service', 'stable-service', 80, 30, 70)}]}}`, [MANAGED]: `{"rollout":["${key}"]}` });
    const edit = releaseRollout(ing, { ...target, actionKey: key });
    expect(edit.annotations[key]).toBe(RESET);
  });

  it('ping-pong: 100 % on the stable ping/pong service, and the key is inferred when not given', () => {
    const key = `${PREFIX}/actions.root`;
    const ing = argoIngress({ [key]: `{"Type":"forward","ForwardConfig":{"TargetGroups":[${tgs('pong', 'ping', 8080, 20, 80)}]}}`, [MANAGED]: `{"rollout":["${key}"]}` });
    const edit = releaseRollout(ing, { rolloutName: 'rollout', stableService: 'ping', servicePort: 8080 });
    expect(edit.annotations).toEqual({
      [key]: '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"ping","ServicePort":"8080","Weight":100}]}}',
      [MANAGED]: null,
    });
  });

  it('header routes: their keys and inserted paths go; other Rollouts keep theirs', () => {
    const RA = `${PREFIX}/actions.header-route`;
    const RC = `${PREFIX}/conditions.header-route`;
    const OTHER = `${PREFIX}/actions.other-svc`;
    const ing = argoIngress({
      [X]: argoAction(),
      [RA]: RESET,
      [RC]: '[]',
      [OTHER]: RESET,
      'unrelated/annotation': 'kept',
      [MANAGED]: `{"other":["${OTHER}"],"rollout":["${X}","${RA}","${RC}"]}`,
    });
    const routePath = { path: '/', pathType: 'Prefix', backend: { service: { name: 'header-route', port: { name: 'use-annotation' } } } };
    const otherPath = { path: '/o', pathType: 'Prefix', backend: { service: { name: 'other-svc', port: { name: 'use-annotation' } } } };
    const original = ing.spec!.rules![0]!.http!.paths[0]!;
    ing.spec!.rules![0]!.http!.paths = [routePath, original, otherPath];
    const edit = releaseRollout(ing, target);
    expect(edit.annotations).toEqual({ [X]: RESET, [RA]: null, [RC]: null, [MANAGED]: `{"other":["${OTHER}"]}` });
    expect(edit.rules).toEqual([{ http: { paths: [original, otherPath] } }]);
  });

  it.each([
    ['without host: the rule goes', undefined, []],
    ['with host: the host stays, without http', 'canary.example.com', [{ host: 'canary.example.com' }]],
  ])('a header route alone on its rule (Argo\'s layout) leaves no empty paths: %s', (_name, host, rest) => {
    const RA = `${PREFIX}/actions.header-route`;
    const ing = argoIngress({ [X]: argoAction(), [RA]: RESET, [MANAGED]: `{"rollout":["${X}","${RA}"]}` });
    const original = ing.spec!.rules![0]!;
    const routeRule = { http: { paths: [{ path: '/*', pathType: 'ImplementationSpecific', backend: { service: { name: 'header-route', port: { name: 'use-annotation' } } } }] } };
    ing.spec!.rules!.push(host === undefined ? routeRule : { host, ...routeRule });
    expect(releaseRollout(ing, target).rules).toEqual([original, ...rest]);
  });

  it('an action key that is already gone is not recreated', () => {
    const ing = argoIngress({ [MANAGED]: `{"rollout":["${X}"]}` });
    expect(releaseRollout(ing, target)).toEqual({ annotations: { [MANAGED]: null } });
  });
});

describe('releaseTargetFor: from the last Rollout seen', () => {
  it.each([
    ['plain', makeRollout({ plugin: { ingress: 'ing', servicePort: 80 } }), 'ing',
      { rolloutName: 'rollout', stableService: 'stable-svc', servicePort: 80, actionKey: `${PREFIX}/actions.stable-svc` }],
    ['rootService and per-Ingress port', makeRollout({ plugin: { ingresses: ['a', { name: 'b', servicePort: 8443 }], servicePort: 80, rootService: 'root' } }), 'b',
      { rolloutName: 'rollout', stableService: 'stable-svc', servicePort: 8443, actionKey: `${PREFIX}/actions.root` }],
    ['ping-pong after a promotion to ping', makeRollout({ plugin: { ingress: 'ing', servicePort: 80, rootService: 'root' }, pingPong: { pingService: 'ping', pongService: 'pong' }, stablePingPong: 'ping' }), 'ing',
      { rolloutName: 'rollout', stableService: 'ping', servicePort: 80, actionKey: `${PREFIX}/actions.root` }],
    ['an Ingress no longer listed uses the top servicePort', makeRollout({ plugin: { ingress: 'new', servicePort: 81, annotationPrefix: 'custom' } }), 'old',
      { rolloutName: 'rollout', stableService: 'stable-svc', servicePort: 81, actionKey: 'custom/actions.stable-svc' }],
  ])('%s', (_name, rollout, ingress, expected) => {
    expect(releaseTargetFor(rollout, PLUGIN, ingress)).toEqual(expected);
  });
});
