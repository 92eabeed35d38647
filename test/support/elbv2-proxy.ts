// A fault-injecting HTTP proxy in front of moto_server: counts ELBv2 calls by Action, answers `Throttling`
// on demand, delays answers, and rewrites DescribeTargetHealth states to the ones moto never reports
// (`initial`, `draining`, `unhealthy`; lbc-elbv2.md §5.3–5.4). Everything else is passed through untouched,
// except one gap of moto's that the real LBC runs into (see `atomicRulePriorities`).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HealthOverride {
  state: string;
  reason?: string;
}

export interface Elbv2Proxy {
  /** `http://127.0.0.1:<port>`: give this to the client under test. */
  endpoint: string;
  /** Calls seen per Action (including throttled ones). */
  counts(): Record<string, number>;
  count(action: string): number;
  /** Total calls of every Action since the last reset. */
  total(): number;
  resetCounts(): void;
  /** The next `times` calls of `action` (or of any Action with `'*'`) get `400 Throttling`. */
  throttle(action: string, times: number): void;
  /**
   * The next `times` calls of `action` (or `'*'`) fail: with an ELBv2 error response (`status`, `code`), or,
   * with `reset`, by closing the connection without an answer. `times` 0 removes the fault.
   */
  fail(action: string, times: number, fault: Fault): void;
  /** Hold answers of `action` for `ms` before sending them (0 removes the delay). */
  delay(action: string, ms: number): void;
  /** DescribeTargetHealth answers report this state for target `ip` (any port, any target group). */
  setHealth(ip: string, override: HealthOverride | undefined): void;
  /**
   * Until `clearFault(name)`, every call for which `match` holds (its Action and its form parameters) fails with
   * `fault`; the calls it failed are counted in `faulted(name)`.
   */
  failWhen(name: string, match: (action: string, params: URLSearchParams) => boolean, fault: Fault): void;
  clearFault(name: string): void;
  faulted(name: string): number;
  /** Every call since the last `resetLog` (at most the last 20000): its Action and form parameters. */
  log(): Array<{ at: number; action: string; params: URLSearchParams }>;
  resetLog(): void;
  stop(): Promise<void>;
}

export type Fault = { status: number; code: string; message?: string; type?: 'Sender' | 'Receiver' } | { reset: true };

const errorBody = (code: string, message: string, type: string): string =>
  '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">' +
  `<Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
  '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>';

const THROTTLE_BODY =
  '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">' +
  '<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>' +
  '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>';

function actionOf(req: IncomingMessage, body: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop() ?? target;
  return new URLSearchParams(body).get('Action') ?? 'unknown';
}

function rewriteHealth(xml: string, overrides: Map<string, HealthOverride>): string {
  if (overrides.size === 0) return xml;
  return xml.replace(/<member>([\s\S]*?)<\/member>/g, (member: string, inner: string) => {
    const id = /<Id>([^<]*)<\/Id>/.exec(inner)?.[1];
    const o = id === undefined ? undefined : overrides.get(id);
    if (!o || !/<TargetHealth>/.test(inner)) return member;
    const health = `<TargetHealth><State>${o.state}</State>${o.reason ? `<Reason>${o.reason}</Reason>` : ''}</TargetHealth>`;
    return `<member>${inner.replace(/<TargetHealth>[\s\S]*?<\/TargetHealth>/, health)}</member>`;
  });
}

export interface Elbv2ProxyOptions {
  /**
   * AWS applies one SetRulePriorities call as a whole, so rules may swap priorities in it; moto checks each
   * pair against the priorities before the call and answers PriorityInUse. The LBC reorders rules that way
   * whenever a rule goes (a header route removed), so in front of the LBC the proxy first moves every rule
   * of such a call to a free priority, then sends the call itself.
   */
  atomicRulePriorities?: boolean;
}

/**
 * Where rules wait during a two-pass SetRulePriorities: below the 50000 the LBC pushes rules it drops to, and
 * never a priority the call itself asks for (moto counts a rule's own priority as taken).
 */
const PARKING_PRIORITY = 49_000;

export async function startElbv2Proxy(upstream: string, options: Elbv2ProxyOptions = {}): Promise<Elbv2Proxy> {
  const target = new URL(upstream);
  const counts: Record<string, number> = {};
  const throttles = new Map<string, number>();
  const faults = new Map<string, { times: number; fault: Fault }>();
  const delays = new Map<string, number>();
  const health = new Map<string, HealthOverride>();
  const matchers = new Map<string, { match: (action: string, params: URLSearchParams) => boolean; fault: Fault; hits: number }>();
  let calls: Array<{ at: number; action: string; params: URLSearchParams }> = [];
  const pendingTimers = new Set<NodeJS.Timeout>();

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        pendingTimers.delete(t);
        resolve();
      }, ms);
      pendingTimers.add(t);
    });

  const takeThrottle = (action: string): boolean => {
    for (const key of [action, '*']) {
      const n = throttles.get(key) ?? 0;
      if (n > 0) {
        throttles.set(key, n - 1);
        return true;
      }
    }
    return false;
  };

  const takeFault = (action: string): Fault | undefined => {
    for (const key of [action, '*']) {
      const f = faults.get(key);
      if (f && f.times > 0) {
        f.times--;
        return f.fault;
      }
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const action = actionOf(req, body.toString('utf8'));
    counts[action] = (counts[action] ?? 0) + 1;
    const params = new URLSearchParams(body.toString('utf8'));
    calls.push({ at: Date.now(), action, params });
    if (calls.length > 20_000) calls = calls.slice(-20_000);

    const delay = delays.get(action) ?? delays.get('*') ?? 0;
    if (delay > 0) await wait(delay);
    if (res.destroyed) return;

    let fault = takeFault(action);
    for (const m of matchers.values()) {
      if (fault) break;
      if (m.match(action, params)) {
        m.hits++;
        fault = m.fault;
      }
    }
    if (fault) {
      if ('reset' in fault) {
        res.socket?.destroy();
        return;
      }
      const xml = errorBody(fault.code, fault.message ?? fault.code, fault.type ?? (fault.status >= 500 ? 'Receiver' : 'Sender'));
      res.writeHead(fault.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
      return;
    }

    if (takeThrottle(action)) {
      res.writeHead(400, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(THROTTLE_BODY) });
      res.end(THROTTLE_BODY);
      return;
    }

    const send = async (payloadIn: Buffer): Promise<{ res: IncomingMessage; payload: Buffer }> => {
      const upstreamRes = await new Promise<IncomingMessage>((resolve, reject) => {
        const up = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: target.host, 'content-length': String(payloadIn.length) },
          },
          resolve,
        );
        up.on('error', reject);
        up.end(payloadIn);
      });
      const out: Buffer[] = [];
      for await (const c of upstreamRes) out.push(c as Buffer);
      return { res: upstreamRes, payload: Buffer.concat(out) };
    };

    if (options.atomicRulePriorities && action === 'SetRulePriorities') {
      const form = new URLSearchParams(body.toString('utf8'));
      const members = [...form.keys()].filter((k) => /^RulePriorities\.member\.\d+\.RuleArn$/.test(k));
      if (members.length > 1) {
        const wanted = new Set(members.map((k) => form.get(k.replace(/RuleArn$/, 'Priority'))));
        let parking = PARKING_PRIORITY;
        for (const key of members) {
          while (wanted.has(String(parking))) parking--;
          const park = new URLSearchParams({ Action: 'SetRulePriorities', Version: form.get('Version') ?? '2015-12-01' });
          park.set('RulePriorities.member.1.RuleArn', form.get(key)!);
          park.set('RulePriorities.member.1.Priority', String(parking--));
          await send(Buffer.from(park.toString(), 'utf8'));
        }
      }
    }

    const { res: upstreamRes, payload: first } = await send(body);
    let payload = first;
    if (action === 'DescribeTargetHealth' && health.size > 0) {
      payload = Buffer.from(rewriteHealth(payload.toString('utf8'), health), 'utf8');
    }
    const headers = { ...upstreamRes.headers, 'content-length': String(payload.length) };
    delete headers['transfer-encoding'];
    res.writeHead(upstreamRes.statusCode ?? 502, headers);
    res.end(payload);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy error: ${String(e)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    count: (action) => counts[action] ?? 0,
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    resetCounts: () => {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    throttle: (action, times) => throttles.set(action, times),
    fail: (action, times, fault) => (times > 0 ? faults.set(action, { times, fault }) : faults.delete(action)),
    delay: (action, ms) => (ms > 0 ? delays.set(action, ms) : delays.delete(action)),
    setHealth: (ip, o) => (o ? health.set(ip, o) : health.delete(ip)),
    failWhen: (name, match, fault) => matchers.set(name, { match, fault, hits: 0 }),
    clearFault: (name) => matchers.delete(name),
    faulted: (name) => matchers.get(name)?.hits ?? 0,
    log: () => [...calls],
    resetLog: () => {
      calls = [];
    },
    stop: async () => {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
