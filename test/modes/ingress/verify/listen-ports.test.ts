// The listener ports whose rules must carry the action, from the Ingress's listen-ports (and ssl-redirect).
import { describe, expect, it } from 'vitest';
import { expectedListenerPorts } from '../../../../src/modes/ingress/verify/listen-ports.js';

const P = 'alb.ingress.kubernetes.io';
const ing = (annotations?: Record<string, string>) => ({ metadata: { annotations: annotations ?? null } });

describe('expectedListenerPorts', () => {
  it.each([
    ['no annotations: one listener, nothing to wait for', undefined, undefined],
    ['listen-ports HTTP 80', { [`${P}/listen-ports`]: '[{"HTTP": 80}]' }, [80]],
    ['HTTP and HTTPS', { [`${P}/listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]' }, [80, 443]],
    ['ports as strings, one object with two protocols', { [`${P}/listen-ports`]: '[{"HTTPS": "8443", "HTTP": 8080}]' }, [8080, 8443]],
    ['ssl-redirect: HTTP listeners only redirect', { [`${P}/listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}]', [`${P}/ssl-redirect`]: '443' }, [443]],
    ['unreadable JSON: nothing waited for', { [`${P}/listen-ports`]: '[{"HTTP": 80' }, undefined],
    ['a port out of range: nothing waited for', { [`${P}/listen-ports`]: '[{"HTTP": 0}]' }, undefined],
    ['another prefix is not ours', { ['example.com/listen-ports']: '[{"HTTP": 81}]' }, undefined],
  ])('%s', (_n, annotations, want) => {
    expect(expectedListenerPorts(ing(annotations), P)).toEqual(want);
  });
});
