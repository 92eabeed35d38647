// Real ELBv2 never returns an OIDC client secret from DescribeRules, while moto echoes it. A small proxy
// in front of moto removes it from DescribeRules answers and records ModifyRule requests, so the test
// sees what SetWeight sends for an authenticate-oidc rule in the real shape.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElbv2 } from '../../../src/aws/elbv2.js';
import { createListenerRuleRouter } from '../../../src/modes/listener-rule/router.js';
import { elbv2Client, startMoto, type Moto } from '../../support/moto.js';
import { bindingReader, PLUGIN, rollout, ruleByArn, seed, weightsOf, type Fixture } from './fixtures.js';

interface SecretStrippingProxy {
  endpoint: string;
  modifyRuleBodies: URLSearchParams[];
  stop(): Promise<void>;
}

async function startSecretStrippingProxy(upstream: string): Promise<SecretStrippingProxy> {
  const target = new URL(upstream);
  const modifyRuleBodies: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString('utf8'));
      if (params.get('Action') === 'ModifyRule') modifyRuleBodies.push(params);
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upRes: IncomingMessage) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            let payload = Buffer.concat(out).toString('utf8');
            if (params.get('Action') === 'DescribeRules') payload = payload.replace(/<ClientSecret>[^<]*<\/ClientSecret>/g, '');
            const headers = { ...upRes.headers, 'content-length': String(Buffer.byteLength(payload)) };
            delete headers['transfer-encoding'];
            res.writeHead(upRes.statusCode ?? 502, headers);
            res.end(payload);
          });
        },
      );
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    modifyRuleBodies,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let moto: Moto;
let proxy: SecretStrippingProxy;
let fx: Fixture;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startSecretStrippingProxy(moto.endpoint);
  fx = await seed(moto.endpoint, elbv2Client(moto.endpoint));
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

describe('an authenticate-oidc rule as real ELBv2 reports it (no client secret)', () => {
  it('asks ELBv2 to keep the existing secret and leaves the rest of the action as it was', async () => {
    const router = createListenerRuleRouter({
      elbv2: createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 }),
      ...bindingReader(fx.bindings),
      pluginName: PLUGIN,
    });
    const ro = rollout({ block: { listenerRule: { ruleArn: fx.authRule }, stableTargetGroup: { arn: fx.tg['app-stable'] }, canaryTargetGroup: { arn: fx.tg['app-canary'] } } });
    await router.setWeight(ro, 25, []);

    expect(proxy.modifyRuleBodies).toHaveLength(1);
    const sent = Object.fromEntries([...proxy.modifyRuleBodies[0]!].filter(([k]) => k.startsWith('Actions.member.1.')));
    const oidc = fx.authAction.AuthenticateOidcConfig!;
    expect(sent).toEqual({
      'Actions.member.1.Type': 'authenticate-oidc',
      'Actions.member.1.Order': '1',
      'Actions.member.1.AuthenticateOidcConfig.Issuer': oidc.Issuer,
      'Actions.member.1.AuthenticateOidcConfig.AuthorizationEndpoint': oidc.AuthorizationEndpoint,
      'Actions.member.1.AuthenticateOidcConfig.TokenEndpoint': oidc.TokenEndpoint,
      'Actions.member.1.AuthenticateOidcConfig.UserInfoEndpoint': oidc.UserInfoEndpoint,
      'Actions.member.1.AuthenticateOidcConfig.ClientId': oidc.ClientId,
      'Actions.member.1.AuthenticateOidcConfig.OnUnauthenticatedRequest': oidc.OnUnauthenticatedRequest,
      'Actions.member.1.AuthenticateOidcConfig.UseExistingClientSecret': 'true',
    });
    expect(weightsOf((await ruleByArn(elbv2Client(moto.endpoint), fx.authRule)).Actions!)).toEqual({
      [fx.tg['app-canary']]: 25,
      [fx.tg['app-stable']]: 75,
    });
  });

  it('refuses a header route that would have to copy the secret', async () => {
    const router = createListenerRuleRouter({
      elbv2: createElbv2({ client: elbv2Client(proxy.endpoint), rateLimit: 1000, rateBurst: 1000 }),
      ...bindingReader(fx.bindings),
      pluginName: PLUGIN,
    });
    const ro = rollout({
      block: { listenerRule: { ruleArn: fx.authRule }, stableTargetGroup: { arn: fx.tg['app-stable'] }, canaryTargetGroup: { arn: fx.tg['app-canary'] } },
      managedRoutes: ['beta'],
    });
    await expect(
      router.setHeaderRoute(ro, { name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] }),
    ).rejects.toThrow(/ELBv2 does not return its client secret/);
  });
});
