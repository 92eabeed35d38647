import { describe, expect, it } from 'vitest';
import { encodeForwardAction, parseForwardAction, sameForwardAction, type ForwardAction } from '../../../src/modes/ingress/action.js';
import { action } from './fixtures.js';

const tg = (serviceName: string, weight: number, servicePort: number | string = 443) => ({ serviceName, servicePort, weight });

describe('encodeForwardAction (byte-identical to Argo getForwardActionString)', () => {
  it.each<[string, ForwardAction, string]>([
    ['canary 10 / stable 90', { targetGroups: [tg('canary-svc', 10), tg('stable-svc', 90)] }, action('canary-svc', 'stable-svc', 443, 10)],
    // §9.1 #20 TestGetForwardActionStringMarshalsZeroCorrectly
    ['weight 0 kept', { targetGroups: [tg('canary-svc', 0), tg('stable-svc', 100)] },
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":0},{"ServiceName":"stable-svc","ServicePort":"443","Weight":100}]}}'],
    // §9.1 #21: stickiness disabled (duration 0) leaves the block out
    ['stickiness disabled', { targetGroups: [tg('canary-svc', 0), tg('stable-svc', 100)], stickiness: { enabled: false, durationSeconds: 0 } },
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":0},{"ServiceName":"stable-svc","ServicePort":"443","Weight":100}]}}'],
    // §2.2 second example: experiments and stickiness
    ['experiments and stickiness',
      { targetGroups: [tg('canary-svc', 10), tg('ex-svc-1', 2), tg('ex-svc-2', 3), tg('stable-svc', 85)], stickiness: { enabled: true, durationSeconds: 3600 } },
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"canary-svc","ServicePort":"443","Weight":10},{"ServiceName":"ex-svc-1","ServicePort":"443","Weight":2},{"ServiceName":"ex-svc-2","ServicePort":"443","Weight":3},{"ServiceName":"stable-svc","ServicePort":"443","Weight":85}],"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":3600}}}'],
    ['HTML-escaped service name', { targetGroups: [tg('a<b', 100, 80)] },
      '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"a\\u003cb","ServicePort":"80","Weight":100}]}}'],
  ])('%s', (_name, input, expected) => {
    expect(encodeForwardAction(input)).toBe(expected);
  });
});

describe('parseForwardAction / sameForwardAction compare by meaning', () => {
  const ours = parseForwardAction(action('canary-svc', 'stable-svc', 443, 10))!;

  it.each([
    ['pretty-printed, camelCase keys, numeric port', `{
      "type": "forward",
      "forwardConfig": { "targetGroups": [
        {"weight": 10, "serviceName": "canary-svc", "servicePort": 443},
        {"serviceName": "stable-svc", "servicePort": "443", "weight": 90} ] } }`, true],
    ['different weight', action('canary-svc', 'stable-svc', 443, 11), false],
    ['different port', action('canary-svc', 'stable-svc', 80, 10), false],
    ['stickiness added', action('canary-svc', 'stable-svc', 443, 10, 300), false],
    ['tuples swapped', '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"stable-svc","ServicePort":"443","Weight":90},{"ServiceName":"canary-svc","ServicePort":"443","Weight":10}]}}', false],
    ['broken JSON', '{', false],
    ['another action type', '{"Type":"fixed-response","FixedResponseConfig":{"StatusCode":"503"}}', false],
  ])('%s → %s', (_name, value, same) => {
    expect(sameForwardAction(parseForwardAction(value), ours)).toBe(same);
  });

  it('reads a disabled stickiness block as none', () => {
    const v = '{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":"s","ServicePort":"80","Weight":100}],"TargetGroupStickinessConfig":{"Enabled":false,"DurationSeconds":5}}}';
    expect(parseForwardAction(v)).toEqual({ targetGroups: [{ serviceName: 's', servicePort: '80', weight: 100 }] });
  });
});
