// The CloudWatch adapter with the real SDK client and canned HTTP answers (no network): the SDK's own
// serialisation and error parsing run, so throttling is recognised as CloudWatch really words it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { createCloudWatch, CloudWatchThrottledError, type CallOutcome, type CloudWatchOptions } from '../../src/analysis/cloudwatch.js';
import type { Clock } from '../../src/aws/token-bucket.js';
import { createMetrics, cloudwatchCallHook } from '../../src/metrics.js';
import { USER_AGENT } from '../../src/version.js';

interface Canned {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

interface Sent {
  target: string | undefined;
  body: Record<string, unknown>;
}

const JSON_TYPE = { 'content-type': 'application/x-amz-json-1.0' };
const ok = (body: unknown): Canned => ({ status: 200, headers: JSON_TYPE, body });
/** CloudWatch's throttling answer in the JSON protocol: the awsQuery code travels in x-amzn-query-error. */
const THROTTLED: Canned = {
  status: 400,
  headers: { ...JSON_TYPE, 'x-amzn-query-error': 'Throttling;Sender' },
  body: { __type: 'com.amazon.coral.availability#ThrottlingException', message: 'Rate exceeded' },
};
/** Without the query-compat header: only the JSON type names it. */
const THROTTLED_JSON_ONLY: Canned = { status: 400, headers: JSON_TYPE, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
const DENIED: Canned = {
  status: 400,
  headers: { ...JSON_TYPE, 'x-amzn-query-error': 'AccessDenied;Sender' },
  body: { __type: 'AccessDeniedException', message: 'User is not authorized to perform: cloudwatch:GetMetricData' },
};

/** A CloudWatchClient whose HTTP handler answers from a script and records what was sent. */
function scriptedClient(script: Canned[], sent: Sent[], onRequest?: (signal?: AbortSignal) => Promise<void>): CloudWatchClient {
  return new CloudWatchClient({
    region: 'us-west-2',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { headers: Record<string, string>; body?: unknown }, opts?: { abortSignal?: AbortSignal }) {
        const raw = typeof request.body === 'string' ? request.body : Buffer.from(request.body as Uint8Array).toString('utf8');
        sent.push({ target: request.headers['x-amz-target'], body: JSON.parse(raw) as Record<string, unknown> });
        await onRequest?.(opts?.abortSignal);
        const next = script.shift();
        if (!next) throw new Error('script ran out');
        return {
          response: {
            statusCode: next.status,
            reason: '',
            headers: next.headers ?? {},
            body: Readable.from([Buffer.from(JSON.stringify(next.body))]),
          },
        };
      },
    } as unknown as NonNullable<ConstructorParameters<typeof CloudWatchClient>[0]>['requestHandler'],
  });
}

const noSleep: Clock = { now: () => Date.now(), sleep: async () => {} };
const INPUT = {
  StartTime: new Date('2025-06-01T10:00:00Z'),
  EndTime: new Date('2025-06-01T10:05:00Z'),
  MetricDataQueries: [{ Id: 'tg0_requests', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount' }, Period: 60, Stat: 'Sum' } }],
};
const page = (values: number[], next?: string) =>
  ok({
    MetricDataResults: [{ Id: 'tg0_requests', Label: 'RequestCount', Timestamps: values.map((_, i) => 1748772000 + 60 * i), Values: values, StatusCode: next ? 'PartialData' : 'Complete' }],
    ...(next ? { NextToken: next } : {}),
    Messages: [],
  });

function setup(script: Canned[], extra: Partial<CloudWatchOptions> = {}, onRequest?: (signal?: AbortSignal) => Promise<void>) {
  const sent: Sent[] = [];
  const calls: Array<[string, CallOutcome]> = [];
  const sleeps: number[] = [];
  const cw = createCloudWatch({
    rateLimit: 1000,
    rateBurst: 1000,
    client: scriptedClient(script, sent, onRequest),
    onCall: (op, outcome) => calls.push([op, outcome]),
    clock: { now: () => Date.now(), sleep: async (ms) => void sleeps.push(ms) },
    random: () => 0.5,
    ...extra,
  });
  return { cw, sent, calls, sleeps };
}

describe('createCloudWatch', () => {
  it('one page: one call, the request as the SDK serialises it', async () => {
    const { cw, sent, calls } = setup([page([100, 120])]);
    const out = await cw.getMetricData(INPUT);
    expect(out.pages).toBe(1);
    expect(out.results).toHaveLength(1);
    expect(out.results[0]!.Values).toEqual([100, 120]);
    expect(out.results[0]!.Timestamps).toEqual([new Date('2025-06-01T10:00:00Z'), new Date('2025-06-01T10:01:00Z')]);
    expect(calls).toEqual([['GetMetricData', 'success']]);
    expect(sent[0]!.target).toBe('GraniteServiceVersion20100801.GetMetricData');
    expect(sent[0]!.body).toMatchObject({ StartTime: 1748772000, EndTime: 1748772300, MetricDataQueries: [{ Id: 'tg0_requests' }] });
    expect(sent[0]!.body).not.toHaveProperty('NextToken');
  });

  it('follows NextToken and keeps every page\'s results', async () => {
    const { cw, sent, calls } = setup([page([1], 't1'), page([2], 't2'), page([3])]);
    const out = await cw.getMetricData(INPUT);
    expect(out.pages).toBe(3);
    expect(out.results.map((r) => r.Values)).toEqual([[1], [2], [3]]);
    expect(sent.map((s) => s.body.NextToken)).toEqual([undefined, 't1', 't2']);
    expect(calls).toHaveLength(3);
  });

  it('a repeated NextToken is an error, not a partial answer judged as quiet minutes', async () => {
    const { cw } = setup([page([1], 't1'), page([2], 't1')]);
    await expect(cw.getMetricData(INPUT)).rejects.toThrow(/repeated a NextToken after 2 pages; the answer is incomplete/);
  });

  it('stops after maxPages with an error', async () => {
    const { cw } = setup([page([1], 'a'), page([2], 'b'), page([3], 'c')], { maxPages: 2 });
    await expect(cw.getMetricData(INPUT)).rejects.toThrow(/still had more pages after 2/);
  });

  it.each([
    ['x-amzn-query-error: Throttling', THROTTLED],
    ['a JSON ThrottlingException', THROTTLED_JSON_ONLY],
  ])('retries throttling (%s) with jittered exponential backoff and counts every attempt', async (_name, throttled) => {
    const { cw, calls, sleeps } = setup([throttled, throttled, page([7])]);
    const out = await cw.getMetricData(INPUT);
    expect(out.results[0]!.Values).toEqual([7]);
    expect(calls).toEqual([['GetMetricData', 'throttled'], ['GetMetricData', 'throttled'], ['GetMetricData', 'success']]);
    expect(sleeps).toEqual([100, 200]); // 0.5 × 200 × 2^attempt
  });

  it('gives up after maxAttempts throttled answers with a plain message', async () => {
    const { cw, calls } = setup([THROTTLED, THROTTLED, THROTTLED], { maxAttempts: 3 });
    const err = await cw.getMetricData(INPUT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudWatchThrottledError);
    expect((err as Error).message).toBe('CloudWatch GetMetricData was throttled 3 times in a row (Rate exceeded); giving up for now');
    expect(calls.map(([, o]) => o)).toEqual(['throttled', 'throttled', 'throttled']);
  });

  it('does not retry other errors', async () => {
    const { cw, calls } = setup([DENIED, page([1])]);
    const err = await cw.getMetricData(INPUT).catch((e: unknown) => e);
    expect((err as { Code?: string }).Code).toBe('AccessDenied');
    expect(calls).toEqual([['GetMetricData', 'error']]);
  });

  it('an abort ends the call in flight and is thrown as the caller\'s reason', async () => {
    const ac = new AbortController();
    // As the SDK's HTTP handler does: an abort rejects the request in flight.
    const { cw, calls } = setup([page([1])], {}, async (signal) => {
      ac.abort(new Error('deadline'));
      if (signal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    await expect(cw.getMetricData(INPUT, { signal: ac.signal })).rejects.toThrow('deadline');
    expect(calls).toEqual([['GetMetricData', 'error']]);
  });

  it('an already aborted signal sends nothing', async () => {
    const { cw, sent } = setup([page([1])]);
    await expect(cw.getMetricData(INPUT, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(sent).toHaveLength(0);
  });

  it('an abort during the backoff ends the wait', async () => {
    const ac = new AbortController();
    const sent: Sent[] = [];
    const cw = createCloudWatch({
      rateLimit: 1000,
      rateBurst: 1000,
      client: scriptedClient([THROTTLED, page([1])], sent),
      clock: {
        now: () => Date.now(),
        sleep: async () => {
          ac.abort(new Error('deadline during backoff'));
          throw new Error('deadline during backoff');
        },
      },
    });
    await expect(cw.getMetricData(INPUT, { signal: ac.signal })).rejects.toThrow('deadline during backoff');
    expect(sent).toHaveLength(1);
  });

  it('has its own token bucket: a burst of 2 at 1/s makes the third call wait a second', async () => {
    let now = 0;
    const waits: number[] = [];
    const clock: Clock = {
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    };
    const { cw } = setup([page([1]), page([2]), page([3])], { rateLimit: 1, rateBurst: 2, clock });
    await cw.getMetricData(INPUT);
    await cw.getMetricData(INPUT);
    expect(waits).toEqual([]);
    await cw.getMetricData(INPUT);
    expect(waits).toEqual([1000]);
  });

  it('builds its own client: the endpoint override, the region, the credentials, the plugin in the User-Agent', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, JSON_TYPE);
        res.end(JSON.stringify({ MetricDataResults: [{ Id: 'tg0_requests', Timestamps: [], Values: [], StatusCode: 'Complete' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const cw = createCloudWatch({
        rateLimit: 1, rateBurst: 1, region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'b' }, clock: noSleep,
      });
      const out = await cw.getMetricData(INPUT);
      expect(out.results[0]!.Id).toBe('tg0_requests');
      expect(seen).toHaveLength(1);
      expect(seen[0]!['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
      expect(seen[0]!['user-agent']).toContain(USER_AGENT);
      expect(seen[0]!.authorization).toMatch(/Credential=AKIDTEST\/\d{8}\/eu-west-1\/monitoring\/aws4_request/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('alb_plugin_cloudwatch_calls_total', () => {
  it('is exposed before any call and counts calls by operation and outcome', async () => {
    const m = createMetrics();
    expect(await m.registry.metrics()).toContain('# TYPE alb_plugin_cloudwatch_calls_total counter');
    const { cw } = setup([THROTTLED, page([1])], { onCall: cloudwatchCallHook(m) });
    await cw.getMetricData(INPUT);
    const text = await m.registry.metrics();
    expect(text).toContain('alb_plugin_cloudwatch_calls_total{operation="GetMetricData",outcome="throttled"} 1');
    expect(text).toContain('alb_plugin_cloudwatch_calls_total{operation="GetMetricData",outcome="success"} 1');
    // ELBv2's counter is a different family: the analysis never shows up in it.
    expect(text).not.toMatch(/alb_plugin_elbv2_calls_total\{/);
  });
});
