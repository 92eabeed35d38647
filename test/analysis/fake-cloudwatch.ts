// A CloudWatch stand-in that answers GetMetricData's MetricStat queries from a table keyed like CloudWatch's own
// store (metric name + exact dimensions), publishing only the minutes it has datapoints for; minute 0 is
// `minute0` (the first minute of the window the test's "now" gives).
import type { GetMetricDataCommandInput, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { CloudWatch, MetricDataAnswer } from '../../src/analysis/cloudwatch.js';

/** 2025-06-01T10:00:00Z: the first minute of the window at 10:07:30 with the defaults. */
export const MINUTE0 = Date.parse('2025-06-01T10:00:00Z');

export type Series = Record<number, number>;
export type Store = Map<string, Series>;
export const key = (metric: string, lb: string, tg?: string) => `${metric} ${lb}${tg ? ` ${tg}` : ''}`;

export interface CwCall {
  input: Omit<GetMetricDataCommandInput, 'NextToken'>;
  signal?: AbortSignal;
}

export function fakeCloudWatch(store: Store, calls: CwCall[], fail?: (signal?: AbortSignal) => Promise<never>, minute0 = MINUTE0): CloudWatch {
  return {
    async getMetricData(input, o): Promise<MetricDataAnswer> {
      calls.push({ input, ...(o?.signal ? { signal: o.signal } : {}) });
      if (fail) return fail(o?.signal);
      const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
        const dims = Object.fromEntries((q.MetricStat?.Metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
        const series = store.get(key(q.MetricStat!.Metric!.MetricName!, dims.LoadBalancer!, dims.TargetGroup)) ?? {};
        const minutes = Object.keys(series).map(Number);
        return { Id: q.Id, Timestamps: minutes.map((m) => new Date(minute0 + m * 60_000)), Values: minutes.map((m) => series[m]!), StatusCode: 'Complete' };
      });
      return { results, messages: [], pages: 1 };
    },
  };
}

/** `perMinute` requests on each of the window's 5 minutes, `errors` on the minutes given. */
export function publish(store: Store, lb: string, tg: string, perMinute: number, errors: Series = {}, latency = 0.1): void {
  const all = (v: number): Series => Object.fromEntries([0, 1, 2, 3, 4].map((m) => [m, v]));
  store.set(key('RequestCount', lb, tg), all(perMinute));
  store.set(key('TargetResponseTime', lb, tg), all(latency));
  if (Object.keys(errors).length) store.set(key('HTTPCode_Target_5XX_Count', lb, tg), errors);
}
