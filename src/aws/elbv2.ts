// The one ELBv2 client of the process. Every request goes through here so that the client-side token
// bucket, the retries on `Throttling` and the per-operation call counts cover all of them (the loop, shared with
// the CloudWatch client: retrying-send.ts). The interface lists only the operations we send (like Argo's
// ELBv2APIClient), plus `send` for the few writes the direct listener-rule mode needs.
import {
  AddTagsCommand,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type AddTagsCommandOutput,
  type CreateRuleCommandOutput,
  type DeleteRuleCommandOutput,
  type DescribeTargetGroupsCommandInput,
  type Listener,
  type LoadBalancer,
  type ModifyListenerCommandOutput,
  type ModifyRuleCommandOutput,
  type Rule,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsThrottledError, retryingSend, sdkClientConfig, type CallOptions, type CallOutcome } from './retrying-send.js';
import type { Clock } from './token-bucket.js';

export type { Listener, LoadBalancer, Rule, TargetGroup, TargetHealthDescription };
export { awsErrorCode, isNotFound, isThrottling, type CallOptions, type CallOutcome } from './retrying-send.js';

export interface Elbv2Options {
  region?: string;
  endpoint?: string;
  /** Requests per second (token refill). */
  rateLimit: number;
  rateBurst: number;
  /** Called once per HTTP attempt, retries included. */
  onCall?(operation: string, outcome: CallOutcome): void;
  /** A ready client (tests, or a caller that needs custom credentials); its own retries should be off. */
  client?: ElasticLoadBalancingV2Client;
  /** Attempts per request when throttled (default 6). */
  maxAttempts?: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs * 2^attempt) (defaults 200 and 5000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Buckets of their own for calls made inside `inBudget(name, …)` (src/aws/budget.ts: the HTTP API's reports). */
  budgets?: Record<string, { rateLimit: number; rateBurst: number }>;
}

export type TagMap = Map<string, Record<string, string>>;

/**
 * A request's list of names or ARNs, either given, or asked for when the request is sent (after its token): a
 * caller batching asks fills the list while the request waits its turn (src/aws/discovery.ts).
 */
export type LateList = string[] | (() => string[]);

/** DescribeTags accepts at most 20 ARNs per call. */
export const DESCRIBE_TAGS_BATCH = 20;
/** Largest page ELBv2 allows for Describe* listings. */
export const MAX_PAGE_SIZE = 400;

export interface Elbv2 {
  /** DescribeLoadBalancers(Names), at most 20 names; throws `LoadBalancerNotFound` if any name is missing. */
  describeLoadBalancersByName(names: LateList, o?: CallOptions): Promise<LoadBalancer[]>;
  /** Paginated scan of every load balancer in the region, stopping at the first match. */
  findLoadBalancer(match: (lb: LoadBalancer) => boolean, o?: CallOptions): Promise<LoadBalancer | undefined>;
  describeListeners(loadBalancerArn: string, o?: CallOptions): Promise<Listener[]>;
  /** Either every rule of one listener, or the given rules (throws `RuleNotFound` if one is gone). */
  describeRules(selector: { listenerArn: string } | { ruleArns: string[] }, o?: CallOptions): Promise<Rule[]>;
  describeTargetGroups(
    selector: Pick<DescribeTargetGroupsCommandInput, 'LoadBalancerArn' | 'TargetGroupArns' | 'Names'>,
    o?: CallOptions,
  ): Promise<TargetGroup[]>;
  /** Tags per ARN, in batches of 20 (a late list is read when the first batch is sent). */
  describeTags(arns: LateList, o?: CallOptions): Promise<TagMap>;
  describeTargetHealth(targetGroupArn: string, o?: CallOptions): Promise<TargetHealthDescription[]>;
  send(command: ModifyRuleCommand, o?: CallOptions): Promise<ModifyRuleCommandOutput>;
  send(command: ModifyListenerCommand, o?: CallOptions): Promise<ModifyListenerCommandOutput>;
  send(command: CreateRuleCommand, o?: CallOptions): Promise<CreateRuleCommandOutput>;
  send(command: DeleteRuleCommand, o?: CallOptions): Promise<DeleteRuleCommandOutput>;
  send(command: AddTagsCommand, o?: CallOptions): Promise<AddTagsCommandOutput>;
}

/** Raised when every attempt was throttled. */
export class ThrottledError extends AwsThrottledError {
  override name = 'ThrottledError';
  constructor(operation: string, attempts: number, cause: unknown) {
    super('ELBv2', operation, attempts, cause);
  }
}

export function createElbv2(opts: Elbv2Options): Elbv2 {
  const client = opts.client ?? new ElasticLoadBalancingV2Client(sdkClientConfig(opts));
  const call = retryingSend(opts, ThrottledError);

  const sendOpts = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

  async function describeAllPages<T>(
    operation: string,
    page: (marker: string | undefined, signal?: AbortSignal) => Promise<{ items: T[]; next?: string }>,
    o?: CallOptions,
    stop?: (item: T) => boolean,
  ): Promise<T[]> {
    const all: T[] = [];
    let marker: string | undefined;
    const seen = new Set<string>();
    do {
      const { items, next } = await call(operation, (s) => page(marker, s), o);
      all.push(...items);
      if (stop && items.some(stop)) break;
      // A marker that repeats would loop forever; treat it as the end of the listing.
      if (next !== undefined && seen.has(next)) break;
      if (next !== undefined) seen.add(next);
      marker = next;
    } while (marker);
    return all;
  }

  const elbv2 = {
    async describeLoadBalancersByName(names: LateList, o?: CallOptions): Promise<LoadBalancer[]> {
      let list = typeof names === 'function' ? undefined : names;
      const out = await call(
        'DescribeLoadBalancers',
        (s) => client.send(new DescribeLoadBalancersCommand({ Names: (list ??= (names as () => string[])()) }), sendOpts(s)),
        o,
      );
      return out.LoadBalancers ?? [];
    },

    async findLoadBalancer(match: (lb: LoadBalancer) => boolean, o?: CallOptions): Promise<LoadBalancer | undefined> {
      const all = await describeAllPages<LoadBalancer>(
        'DescribeLoadBalancers',
        async (marker, s) => {
          const out = await client.send(
            new DescribeLoadBalancersCommand({ PageSize: MAX_PAGE_SIZE, Marker: marker }),
            sendOpts(s),
          );
          return { items: out.LoadBalancers ?? [], next: out.NextMarker };
        },
        o,
        match,
      );
      return all.find(match);
    },

    describeListeners(loadBalancerArn: string, o?: CallOptions): Promise<Listener[]> {
      return describeAllPages<Listener>(
        'DescribeListeners',
        async (marker, s) => {
          const out = await client.send(
            new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, PageSize: MAX_PAGE_SIZE, Marker: marker }),
            sendOpts(s),
          );
          return { items: out.Listeners ?? [], next: out.NextMarker };
        },
        o,
      );
    },

    describeRules(selector: { listenerArn: string } | { ruleArns: string[] }, o?: CallOptions): Promise<Rule[]> {
      const input =
        'listenerArn' in selector ? { ListenerArn: selector.listenerArn } : { RuleArns: selector.ruleArns };
      return describeAllPages<Rule>(
        'DescribeRules',
        async (marker, s) => {
          const out = await client.send(
            new DescribeRulesCommand({ ...input, PageSize: MAX_PAGE_SIZE, Marker: marker }),
            sendOpts(s),
          );
          return { items: out.Rules ?? [], next: out.NextMarker };
        },
        o,
      );
    },

    describeTargetGroups(
      selector: Pick<DescribeTargetGroupsCommandInput, 'LoadBalancerArn' | 'TargetGroupArns' | 'Names'>,
      o?: CallOptions,
    ): Promise<TargetGroup[]> {
      return describeAllPages<TargetGroup>(
        'DescribeTargetGroups',
        async (marker, s) => {
          const out = await client.send(
            new DescribeTargetGroupsCommand({ ...selector, PageSize: MAX_PAGE_SIZE, Marker: marker }),
            sendOpts(s),
          );
          return { items: out.TargetGroups ?? [], next: out.NextMarker };
        },
        o,
      );
    },

    async describeTags(arns: LateList, o?: CallOptions): Promise<TagMap> {
      const tags: TagMap = new Map();
      let unique = typeof arns === 'function' ? undefined : [...new Set(arns)];
      for (let i = 0; unique === undefined || i < unique.length; i += DESCRIBE_TAGS_BATCH) {
        const out = await call(
          'DescribeTags',
          (s) => {
            unique ??= [...new Set((arns as () => string[])())];
            return client.send(new DescribeTagsCommand({ ResourceArns: unique.slice(i, i + DESCRIBE_TAGS_BATCH) }), sendOpts(s));
          },
          o,
        );
        for (const d of out.TagDescriptions ?? []) {
          if (!d.ResourceArn) continue;
          const map: Record<string, string> = {};
          for (const t of d.Tags ?? []) if (t.Key !== undefined) map[t.Key] = t.Value ?? '';
          tags.set(d.ResourceArn, map);
        }
      }
      return tags;
    },

    async describeTargetHealth(targetGroupArn: string, o?: CallOptions): Promise<TargetHealthDescription[]> {
      const out = await call(
        'DescribeTargetHealth',
        (s) => client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), sendOpts(s)),
        o,
      );
      return out.TargetHealthDescriptions ?? [];
    },

    send(
      command: ModifyRuleCommand | ModifyListenerCommand | CreateRuleCommand | DeleteRuleCommand | AddTagsCommand,
      o?: CallOptions,
    ): Promise<unknown> {
      // Named by class, not constructor.name, which a bundler may rename.
      const operation =
        command instanceof ModifyRuleCommand ? 'ModifyRule'
        : command instanceof ModifyListenerCommand ? 'ModifyListener'
        : command instanceof CreateRuleCommand ? 'CreateRule'
        : command instanceof DeleteRuleCommand ? 'DeleteRule'
        : 'AddTags';
      // The union is narrowed by the overloads on the interface; the client's own overloads need one type.
      return call(operation, (s) => client.send(command as ModifyRuleCommand, sendOpts(s)), o);
    },
  };
  return elbv2 as Elbv2;
}
