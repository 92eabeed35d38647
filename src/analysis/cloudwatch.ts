// The CloudWatch client of the analysis: GetMetricData only. It is its own client with its own token bucket,
// never the ELBv2 one's: a burst of measurements must not delay weight verification (or the reverse), and
// CloudWatch's quota (GetMetricData: 50 requests/s per account and region by default, shared with dashboards
// and alarms) is a different budget from ELBv2's. Retries on throttling, the call counts and the AbortSignal
// are ELBv2's loop (src/aws/retrying-send.ts), the User-Agent is the same; the endpoint override is its own
// setting (--cloudwatch-endpoint), since a VPC endpoint or an emulator for ELBv2 says nothing about CloudWatch.
// Region and credentials come from the SDK's chain like ELBv2's. The SDK's CloudWatch package is imported at the
// first measurement, not at start-up: a sidecar whose AnalysisTemplates never name the provider never loads it
// (about 2 MiB of resident memory beside the ELBv2 client, issue #20).

import type {
  CloudWatchClient,
  CloudWatchClientConfig,
  GetMetricDataCommandInput,
  MessageData,
  MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { AwsThrottledError, retryingSend, sdkClientConfig, type CallOptions, type CallOutcome } from '../aws/retrying-send.js';
import type { Clock } from '../aws/token-bucket.js';

export type { CallOptions, CallOutcome, MetricDataResult };

export interface CloudWatchOptions {
  region?: string;
  endpoint?: string;
  /** Tests only (moto); production takes the SDK's chain (IRSA, Pod Identity, env). */
  credentials?: CloudWatchClientConfig['credentials'];
  /** Requests per second (token refill); a budget of its own, apart from ELBv2's. */
  rateLimit: number;
  rateBurst: number;
  /** Called once per HTTP attempt, retries included (see cloudwatchCallHook in src/metrics.ts). */
  onCall?(operation: string, outcome: CallOutcome): void;
  /** A ready client (tests); its own retries should be off. */
  client?: CloudWatchClient;
  /** Attempts per request when throttled (default 6). */
  maxAttempts?: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs * 2^attempt) (defaults 200 and 5000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Pages one getMetricData follows at most (default 20): a guard against an answer that never ends. */
  maxPages?: number;
  clock?: Clock;
  random?: () => number;
}

export interface MetricDataAnswer {
  /** The results of every page, in the order they came (an id can appear on several pages). */
  results: MetricDataResult[];
  /** Messages about the request as a whole (every page's). */
  messages: MessageData[];
  /** GetMetricData calls this answer took: 1 unless CloudWatch paginated. */
  pages: number;
}

export interface CloudWatch {
  /** GetMetricData, following NextToken to the end. */
  getMetricData(input: Omit<GetMetricDataCommandInput, 'NextToken'>, o?: CallOptions): Promise<MetricDataAnswer>;
}

/** Raised when every attempt was throttled. */
export class CloudWatchThrottledError extends AwsThrottledError {
  override name = 'CloudWatchThrottledError';
  constructor(operation: string, attempts: number, cause: unknown) {
    super('CloudWatch', operation, attempts, cause);
  }
}

export function createCloudWatch(opts: CloudWatchOptions): CloudWatch {
  let sdk: Promise<{ client: CloudWatchClient; GetMetricDataCommand: typeof import('@aws-sdk/client-cloudwatch').GetMetricDataCommand }> | undefined;
  const loadSdk = () =>
    (sdk ??= import('@aws-sdk/client-cloudwatch').then((m) => ({
      client: opts.client ?? new m.CloudWatchClient({ ...sdkClientConfig(opts), ...(opts.credentials ? { credentials: opts.credentials } : {}) }),
      GetMetricDataCommand: m.GetMetricDataCommand,
    })));
  const maxPages = opts.maxPages ?? 20;
  // The same loop as ELBv2's (src/aws/retrying-send.ts), with a token bucket of its own.
  const call = retryingSend(opts, CloudWatchThrottledError);

  return {
    async getMetricData(input, o) {
      const { client, GetMetricDataCommand } = await loadSdk();
      const results: MetricDataResult[] = [];
      const messages: MessageData[] = [];
      const seen = new Set<string>();
      let token: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await call(
          'GetMetricData',
          (s) => client.send(new GetMetricDataCommand({ ...input, NextToken: token }), s ? { abortSignal: s } : {}),
          o,
        );
        pages++;
        results.push(...(page.MetricDataResults ?? []));
        messages.push(...(page.Messages ?? []));
        token = page.NextToken || undefined;
        if (token === undefined) break;
        // Unlike a Describe listing, metrics cut short would be judged as quiet minutes: a token that repeats
        // (it would loop forever) or too many pages end the call with an error rather than with part of the data.
        if (seen.has(token)) throw new Error(`CloudWatch GetMetricData repeated a NextToken after ${pages} pages; the answer is incomplete`);
        if (pages >= maxPages) {
          throw new Error(`CloudWatch GetMetricData still had more pages after ${pages}; ask for a shorter lookback or fewer load balancers`);
        }
        seen.add(token);
      }
      return { results, messages, pages };
    },
  };
}
