import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { elbv2Client, startMoto, type Moto } from '../support/moto.js';

describe('startMoto', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('serves ELBv2 on a loopback port', async () => {
    expect(moto.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const out = await elbv2Client(moto.endpoint).send(new DescribeLoadBalancersCommand({}));
    expect(out.LoadBalancers).toEqual([]);
  });
});
