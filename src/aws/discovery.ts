// The sidecar's one ELBv2 discovery, shared by every mode (issue #20): which load balancer a name or a status
// hostname names, a load balancer's listeners, a listener's rules, and target groups' tags. However many
// Rollouts ask at once, and whichever mode they are in, there is at most one request in flight per load
// balancer and per listener, and DescribeTags and DescribeLoadBalancers(Names) carry up to 20 asks each: a batch
// takes every ask that arrives before it is sent, which is at the end of the tick at the earliest and, under the
// rate limit (src/aws/elbv2.ts), when its token comes. A request that every asker has given up on is cancelled
// (flight.ts); an asker's own deadline never fails another's.
//
// Freshness is the asker's to state, as `minAt`: only an answer read (sent) at or after it will do. A check that
// judges weights passes its own start, so it never judges rules read before it began; every Rollout that began
// before a listener's rules were sent shares that one read ("once per round"). Without `minAt` an answer up to
// `maxAgeMs` old (30 s, the discovery age every mode uses) is taken. Tags are kept per ARN until forgotten:
// target groups' never change (the LBC's resource tag); a listener-rule driven rule's are forgotten when it is
// refused for lacking the plugin's opt-in tag or a write to it fails (`forgetTags`), so a tag added since is read.
// Load balancers, listeners and rules that turn out to be gone (`*NotFound`) are dropped, and a write to a
// listener's rules drops its rules (`forgetRules`).
import type { Listener, LoadBalancer, Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { loadBalancerArnOf } from './arns.js';
import { DESCRIBE_TAGS_BATCH, isNotFound, type CallOptions, type Elbv2, type TagMap } from './elbv2.js';
import { Flight } from './flight.js';
import { loadBalancerNameFromHostname, sameLoadBalancerHost } from './hostname.js';

export const DEFAULT_DISCOVERY_MAX_AGE_MS = 30_000;
/** DescribeLoadBalancers takes at most 20 names. */
export const DESCRIBE_LOAD_BALANCERS_NAMES = 20;
/** Answers kept per kind; the oldest go first. */
const MAX_ENTRIES = 10_000;

export interface DiscoveryOptions {
  /** Age after which a load balancer, listener list or rule list is read again when the asker sets no `minAt`. */
  maxAgeMs?: number;
  now?: () => number;
}

export interface ReadOptions {
  /** Ends this asker's wait (the request goes on while others wait for it). */
  signal?: AbortSignal;
  /** Only an answer read at or after this time will do; default: one at most `maxAgeMs` old. */
  minAt?: number;
  /** Called when this ask sends a request of its own, not when it shares one or is answered from memory. */
  onRequest?(): void;
}

/** An answer and when it was read (its request sent). */
export interface Read<T> {
  value: T;
  at: number;
}

interface Running<T> {
  flight: Flight<Read<T>>;
  /** When its (first) request was sent; undefined while it waits for its token, when anyone may still join. */
  sentAt?: number;
}

/** Answers by key with the time they were read; expired and surplus ones are dropped, the oldest first. */
class Remembered<T> {
  private readonly map = new Map<string, Read<T>>();

  constructor(
    private readonly now: () => number,
    private readonly maxAge: number,
  ) {}

  get(key: string, minAt: number): Read<T> | undefined {
    const read = this.map.get(key);
    return read && read.at >= minAt ? read : undefined;
  }

  /** Keeps `read` unless a newer answer is kept already. */
  set(key: string, read: Read<T>): void {
    const current = this.map.get(key);
    if (current && current.at > read.at) return;
    // Insertion order is age order: re-inserted at the end, expired ones dropped from the front.
    this.map.delete(key);
    this.map.set(key, read);
    const expired = this.now() - this.maxAge;
    for (const [k, r] of this.map) {
      if (this.map.size <= MAX_ENTRIES && r.at >= expired) break;
      this.map.delete(k);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  deleteWhere(match: (key: string, value: T) => boolean): void {
    for (const [k, r] of this.map) if (match(k, r.value)) this.map.delete(k);
  }
}

/** Answers by key with the time they were read, at most one request per key in flight. */
class TimedReads<T> {
  private readonly done: Remembered<T>;
  private readonly running = new Map<string, Running<T>>();

  constructor(
    private readonly now: () => number,
    private readonly maxAge: number,
    /** Whether an answer is kept for later askers (a load balancer not found is looked for again). */
    private readonly keep: (value: T) => boolean = () => true,
  ) {
    this.done = new Remembered(now, maxAge);
  }

  read(key: string, o: ReadOptions, fetch: (o: CallOptions) => Promise<T>): Promise<Read<T>> {
    const minAt = o.minAt ?? this.now() - this.maxAge;
    const done = this.done.get(key, minAt);
    if (done) return Promise.resolve(done);
    const other = this.running.get(key);
    if (other?.flight.joinable && (other.sentAt === undefined || other.sentAt >= minAt)) return other.flight.join(o.signal);
    o.onRequest?.();
    const issuedAt = this.now();
    const running = { sentAt: undefined } as Running<T>;
    running.flight = new Flight(async (signal) => {
      const value = await fetch({ signal, onSend: () => (running.sentAt ??= this.now()) });
      const read = { value, at: running.sentAt ?? issuedAt };
      // Not after a `forget` while it ran.
      if (this.running.get(key) === running && this.keep(value)) this.done.set(key, read);
      return read;
    });
    this.running.set(key, running);
    const clear = (): void => {
      if (this.running.get(key) === running) this.running.delete(key);
    };
    running.flight.promise.then(clear, clear);
    return running.flight.join(o.signal);
  }

  /** Drops the answer and lets no later asker share a request already running for it. */
  forget(key: string): void {
    this.done.delete(key);
    this.running.delete(key);
  }

  /** Drops the answers `match` picks, and the running requests whose key it picks. */
  forgetWhere(match: (key: string, value: T | undefined) => boolean): void {
    this.done.deleteWhere(match);
    for (const k of [...this.running.keys()]) if (match(k, undefined)) this.running.delete(k);
  }
}

type Outcome<V> = { value: V } | { error: unknown };

interface Batch<V> {
  keys: string[];
  sent: boolean;
  flight: Flight<Map<string, Outcome<V>>>;
}

/** Asks for single keys, sent as one request per up to `max` keys asked before it goes out. */
class Batcher<V> {
  private open: Batch<V> | undefined;
  private readonly pending = new Map<string, Batch<V>>();

  constructor(
    private readonly max: number,
    /** One request for the keys `take` gives when it is sent; an outcome per key. */
    private readonly send: (take: () => string[], o: CallOptions) => Promise<Map<string, Outcome<V>>>,
  ) {}

  async ask(keys: string[], o: ReadOptions): Promise<Map<string, Outcome<V>>> {
    const unique = [...new Set(keys)];
    const batches = new Set<Batch<V>>();
    for (const key of unique) {
      let batch = this.pending.get(key);
      if (!batch?.flight.joinable) {
        batch = this.openBatch(o);
        batch.keys.push(key);
        if (batch.keys.length >= this.max) this.open = undefined;
        this.pending.set(key, batch);
      }
      batches.add(batch);
    }
    const answers = await Promise.all([...batches].map((b) => b.flight.join(o.signal)));
    const out = new Map<string, Outcome<V>>();
    for (const answer of answers) for (const key of unique) if (answer.has(key)) out.set(key, answer.get(key)!);
    return out;
  }

  /** Later asks for these keys do not join a batch that has been sent already. */
  forget(keys: string[]): void {
    for (const key of keys) if (this.pending.get(key)?.sent) this.pending.delete(key);
  }

  private openBatch(o: ReadOptions): Batch<V> {
    const open = this.open;
    if (open && !open.sent && open.flight.joinable && open.keys.length < this.max) return open;
    o.onRequest?.();
    const batch = { keys: [], sent: false } as unknown as Batch<V>;
    const take = (): string[] => {
      batch.sent = true;
      if (this.open === batch) this.open = undefined;
      return batch.keys;
    };
    batch.flight = new Flight(async (signal) => {
      // Asks of the same tick join even when a token is free at once.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return this.send(take, { signal });
    });
    const clear = (): void => {
      if (this.open === batch) this.open = undefined;
      for (const k of batch.keys) if (this.pending.get(k) === batch) this.pending.delete(k);
    };
    batch.flight.promise.then(clear, clear);
    this.open = batch;
    return batch;
  }
}

function firstError<V>(outcomes: Map<string, Outcome<V>>): unknown {
  for (const o of outcomes.values()) if ('error' in o) return o.error;
  return undefined;
}

export class Elbv2Discovery {
  readonly now: () => number;
  private readonly maxAge: number;
  private readonly byName: Remembered<LoadBalancer>;
  private readonly byHost: TimedReads<LoadBalancer | undefined>;
  private readonly listenersOf: TimedReads<Listener[]>;
  private readonly rulesOf: TimedReads<Rule[]>;
  /** ARN → its tags ({} without any), kept until `forgetTags` (a target group's never change). */
  private readonly tagsOf = new Map<string, Record<string, string>>();
  private readonly names: Batcher<LoadBalancer | undefined>;
  private readonly tagBatches: Batcher<Record<string, string>>;

  constructor(
    private readonly elbv2: Elbv2,
    opts: DiscoveryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxAge = opts.maxAgeMs ?? DEFAULT_DISCOVERY_MAX_AGE_MS;
    this.byName = new Remembered(this.now, this.maxAge);
    this.byHost = new TimedReads(this.now, this.maxAge, (lb) => lb !== undefined);
    this.listenersOf = new TimedReads(this.now, this.maxAge);
    this.rulesOf = new TimedReads(this.now, this.maxAge);
    this.names = new Batcher(DESCRIBE_LOAD_BALANCERS_NAMES, (take, o) => this.sendNames(take, o));
    this.tagBatches = new Batcher(DESCRIBE_TAGS_BATCH, (take, o) => this.sendTags(take, o));
  }

  /**
   * DescribeLoadBalancers(Names), as `Elbv2.describeLoadBalancersByName` answers it (throws the
   * `LoadBalancerNotFound` of a missing name), batched with other askers' names.
   */
  async loadBalancersByName(names: string[], o: ReadOptions = {}): Promise<LoadBalancer[]> {
    const minAt = o.minAt ?? this.now() - this.maxAge;
    const out = new Map<string, LoadBalancer>();
    const missing: string[] = [];
    for (const name of new Set(names)) {
      const known = this.byName.get(name, minAt);
      if (known) out.set(name, known.value);
      else missing.push(name);
    }
    if (missing.length > 0) {
      const outcomes = await this.names.ask(missing, o);
      const error = firstError(outcomes);
      if (error !== undefined) throw error;
      for (const [name, outcome] of outcomes) if ('value' in outcome && outcome.value) out.set(name, outcome.value);
    }
    return [...out.values()];
  }

  private async sendNames(take: () => string[], o: CallOptions): Promise<Map<string, Outcome<LoadBalancer | undefined>>> {
    let names: string[] = [];
    let at = this.now();
    const outcomes = new Map<string, Outcome<LoadBalancer | undefined>>();
    const learn = (lbs: LoadBalancer[], among: string[]): void => {
      for (const name of among) {
        const lb = lbs.find((l) => l.LoadBalancerName?.toLowerCase() === name.toLowerCase());
        if (!lb) continue;
        this.byName.set(name, { value: lb, at });
        outcomes.set(name, { value: lb });
      }
    };
    try {
      const lbs = await this.elbv2.describeLoadBalancersByName(() => {
        at = this.now();
        names = take();
        return names;
      }, o);
      learn(lbs, names);
    } catch (err) {
      // One missing name fails the whole call: each name on its own then says which.
      if (!isNotFound(err) || names.length <= 1) throw err;
    }
    // A name the answer left out (after such a failure, or from a peer that answers with the names it found)
    // is asked on its own, so its asker gets ELBv2's own answer for it.
    await Promise.all(
      names
        .filter((name) => !outcomes.has(name))
        .map(async (name) => {
          try {
            learn(await this.elbv2.describeLoadBalancersByName([name], o), [name]);
            if (!outcomes.has(name)) outcomes.set(name, { value: undefined });
          } catch (e) {
            if (o.signal?.aborted) throw e;
            outcomes.set(name, { error: e });
          }
        }),
    );
    return outcomes;
  }

  /**
   * The load balancer behind a status hostname (an Ingress's, a Gateway's address): the name the hostname gives,
   * looked up with DescribeLoadBalancers(Names) (batched) and confirmed by its DNS name; a paginated scan
   * comparing DNS names only when that finds nothing (a custom name in capitals). Undefined when none matches,
   * which is not remembered.
   */
  async loadBalancerByHostname(hostname: string, o: ReadOptions = {}): Promise<LoadBalancer | undefined> {
    const read = await this.byHost.read(hostname.trim().toLowerCase(), o, async (co) => {
      let found: LoadBalancer | undefined;
      const name = loadBalancerNameFromHostname(hostname);
      if (name) {
        try {
          const lbs = await this.loadBalancersByName([name], { ...(co.signal ? { signal: co.signal } : {}), ...(o.minAt !== undefined ? { minAt: o.minAt } : {}) });
          found = lbs.find((lb) => sameLoadBalancerHost(lb.DNSName, hostname));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return found ?? (await this.elbv2.findLoadBalancer((lb) => sameLoadBalancerHost(lb.DNSName, hostname), co));
    });
    return read.value;
  }

  /** The load balancer's listeners (every page). `LoadBalancerNotFound` drops what is known about it. */
  listeners(loadBalancerArn: string, o: ReadOptions = {}): Promise<Read<Listener[]>> {
    return this.listenersOf.read(loadBalancerArn, o, async (co) => {
      try {
        return await this.elbv2.describeListeners(loadBalancerArn, co);
      } catch (err) {
        if (isNotFound(err)) this.forgetLoadBalancer(loadBalancerArn);
        throw err;
      }
    });
  }

  /** Every rule of one listener. `ListenerNotFound` drops the load balancer's listener list. */
  rules(listenerArn: string, o: ReadOptions = {}): Promise<Read<Rule[]>> {
    return this.rulesOf.read(listenerArn, o, async (co) => {
      try {
        return await this.elbv2.describeRules({ listenerArn }, co);
      } catch (err) {
        if (isNotFound(err)) {
          this.rulesOf.forget(listenerArn);
          const lb = loadBalancerArnOf(listenerArn);
          if (lb) this.listenersOf.forget(lb);
        }
        throw err;
      }
    });
  }

  /**
   * Tags of target groups, listeners or rules (ARNs asked for before are answered from memory; {} for one without
   * tags), batched with other askers' ARNs, at most 20 per DescribeTags.
   */
  async tags(arns: string[], o: ReadOptions = {}): Promise<TagMap> {
    const unknown = [...new Set(arns)].filter((a) => !this.tagsOf.has(a));
    if (unknown.length > 0) {
      const error = firstError(await this.tagBatches.ask(unknown, o));
      if (error !== undefined) throw error;
    }
    const out: TagMap = new Map();
    for (const a of arns) {
      const t = this.tagsOf.get(a);
      if (t) out.set(a, t);
    }
    return out;
  }

  private async sendTags(take: () => string[], o: CallOptions): Promise<Map<string, Outcome<Record<string, string>>>> {
    let arns: string[] = [];
    const outcomes = new Map<string, Outcome<Record<string, string>>>();
    const learn = (arn: string, tags: TagMap): Record<string, string> => {
      const t = tags.get(arn) ?? {};
      if (this.tagsOf.size >= MAX_ENTRIES && !this.tagsOf.has(arn)) this.tagsOf.delete(this.tagsOf.keys().next().value as string);
      this.tagsOf.set(arn, t);
      return t;
    };
    try {
      const tags = await this.elbv2.describeTags(() => (arns = take()), o);
      for (const arn of arns) outcomes.set(arn, { value: learn(arn, tags) });
    } catch (err) {
      // A target group deleted meanwhile fails the whole call; each ARN on its own then says which.
      if (!isNotFound(err) || arns.length <= 1) throw err;
      await Promise.all(
        arns.map(async (arn) => {
          try {
            outcomes.set(arn, { value: learn(arn, await this.elbv2.describeTags([arn], o)) });
          } catch (e) {
            if (o.signal?.aborted) throw e;
            outcomes.set(arn, { error: e });
          }
        }),
      );
    }
    return outcomes;
  }

  /** The tags of these ARNs may have changed: the next ask reads them again (a batch already sent is not joined). */
  forgetTags(arns: string[]): void {
    for (const arn of arns) this.tagsOf.delete(arn);
    this.tagBatches.forget(arns);
  }

  /** The load balancer is gone (or was looked up wrongly): its name, hostnames, listeners and their rules. */
  forgetLoadBalancer(loadBalancerArn: string): void {
    const gone = (_key: string, lb: LoadBalancer | undefined): boolean => lb?.LoadBalancerArn === loadBalancerArn;
    this.byName.deleteWhere(gone);
    this.byHost.forgetWhere(gone);
    this.listenersOf.forget(loadBalancerArn);
    this.rulesOf.forgetWhere((listenerArn) => loadBalancerArnOf(listenerArn) === loadBalancerArn);
  }

  /** The load balancer's listener list changed (or may have). */
  forgetListeners(loadBalancerArn: string): void {
    this.listenersOf.forget(loadBalancerArn);
  }

  /** A rule of the listener, or its default action, was written: its rules are read again. */
  forgetRules(listenerArn: string): void {
    this.rulesOf.forget(listenerArn);
  }
}
