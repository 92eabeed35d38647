// The TargetGroupBinding reader at the HTTP level (nock, no network).
import nock from 'nock';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBindingReader, toBinding } from '../../../src/modes/listener-rule/k8s.js';
import { fakeKubeConfig, useNockedApiServer, TOKEN } from '../../k8s/fake-cluster.js';

let base: string;
const json = { 'content-type': 'application/json' };
const TG = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/tf-app/73e2d6bc24d8a067';

const tgb = (name: string, service: string, spec: Record<string, unknown> = { targetGroupARN: TG }) => ({
  apiVersion: 'elbv2.k8s.aws/v1beta1',
  kind: 'TargetGroupBinding',
  metadata: { name, namespace: 'shop' },
  spec: { serviceRef: { name: service, port: 80 }, targetType: 'ip', ...spec },
});

const apiServer = useNockedApiServer();
beforeAll(() => {
  base = apiServer();
});

describe('createBindingReader', () => {
  it('gets one binding by name with the bearer token', async () => {
    nock(base, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/apis/elbv2.k8s.aws/v1beta1/namespaces/shop/targetgroupbindings/app-tgb')
      .reply(200, tgb('app-tgb', 'app-stable'), json);
    await expect(createBindingReader(fakeKubeConfig(base)).getTargetGroupBinding('shop', 'app-tgb')).resolves.toEqual({
      name: 'app-tgb',
      namespace: 'shop',
      serviceName: 'app-stable',
      targetGroupArn: TG,
    });
  });

  it('returns undefined for a binding that does not exist', async () => {
    nock(base)
      .get('/apis/elbv2.k8s.aws/v1beta1/namespaces/shop/targetgroupbindings/gone')
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'targetgroupbindings.elbv2.k8s.aws "gone" not found' }, json);
    await expect(createBindingReader(fakeKubeConfig(base)).getTargetGroupBinding('shop', 'gone')).resolves.toBeUndefined();
  });

  // Issue #12 item 8: the API not being served is not "no such binding".
  it('says the TargetGroupBinding API is not served, naming the setting, instead of "no such binding"', async () => {
    const missingType = { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource', details: {} };
    nock(base).get('/apis/elbv2.k8s.aws/v1beta1/namespaces/shop/targetgroupbindings/app-tgb').reply(404, missingType, json);
    nock(base).get('/apis/elbv2.k8s.aws/v1beta1/namespaces/shop/targetgroupbindings').query(true).reply(404, missingType, json);
    const reader = createBindingReader(fakeKubeConfig(base));
    await expect(reader.getTargetGroupBinding('shop', 'app-tgb')).rejects.toThrow(/--aws-target-group-binding-api-version=elbv2\.k8s\.aws\/v1beta1/);
    await expect(reader.listTargetGroupBindings('shop')).rejects.toThrow(/does not serve targetgroupbindings\.elbv2\.k8s\.aws/);
  });

  it('names the binding and the status on other failures', async () => {
    nock(base)
      .get('/apis/eks.amazonaws.com/v1/namespaces/shop/targetgroupbindings/app-tgb')
      .reply(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'targetgroupbindings is forbidden' }, json);
    await expect(
      createBindingReader(fakeKubeConfig(base), 'eks.amazonaws.com/v1').getTargetGroupBinding('shop', 'app-tgb'),
    ).rejects.toThrow('reading TargetGroupBinding shop/app-tgb (eks.amazonaws.com/v1): HTTP 403');
  });

  it('lists every page of a namespace', async () => {
    const path = '/apis/elbv2.k8s.aws/v1beta1/namespaces/shop/targetgroupbindings';
    nock(base)
      .get(path)
      .query({ limit: '500' })
      .reply(200, { items: [tgb('a-tgb', 'a')], metadata: { continue: 'next-page' } }, json)
      .get(path)
      .query({ limit: '500', continue: 'next-page' })
      .reply(200, { items: [tgb('b-tgb', 'b', { targetGroupName: 'tf-b' })], metadata: {} }, json);
    const list = await createBindingReader(fakeKubeConfig(base)).listTargetGroupBindings('shop');
    expect(list).toEqual([
      { name: 'a-tgb', namespace: 'shop', serviceName: 'a', targetGroupArn: TG },
      { name: 'b-tgb', namespace: 'shop', serviceName: 'b', targetGroupName: 'tf-b' },
    ]);
  });

  it('refuses an apiVersion without a group', () => {
    expect(() => createBindingReader(fakeKubeConfig(base), 'v1')).toThrow('must be <group>/<version>');
  });
});

describe('toBinding', () => {
  it.each([
    [null],
    [{ metadata: { name: 'x' }, spec: {} }],
    [{ metadata: {}, spec: { serviceRef: { name: 's' } } }],
  ])('skips %j', (obj) => {
    expect(toBinding(obj, 'shop')).toBeUndefined();
  });
});
