// What the judge reads about one target group (or several summed): requests, 5xx answers and the latency as
// a request-weighted sum, so target groups on several load balancers add up without averaging averages.

export interface TargetGroupTotals {
  /** RequestCount summed over the window. */
  requests: number;
  /** HTTPCode_Target_5XX_Count summed over the window. */
  errors: number;
  /** Σ over minutes of TargetResponseTime Average × RequestCount. */
  latencySum: number;
  /** Σ of RequestCount over the minutes that had a TargetResponseTime datapoint. */
  latencyWeight: number;
}

export const ZERO_TOTALS: Readonly<TargetGroupTotals> = Object.freeze({ requests: 0, errors: 0, latencySum: 0, latencyWeight: 0 });

export function addTotals(a: TargetGroupTotals, b: TargetGroupTotals): TargetGroupTotals {
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    latencySum: a.latencySum + b.latencySum,
    latencyWeight: a.latencyWeight + b.latencyWeight,
  };
}

export function sumTotals(all: readonly TargetGroupTotals[]): TargetGroupTotals {
  return all.reduce<TargetGroupTotals>(addTotals, { ...ZERO_TOTALS });
}

/** 5xx / requests, or undefined without requests (never NaN). */
export function errorRate(t: TargetGroupTotals): number | undefined {
  return t.requests > 0 ? t.errors / t.requests : undefined;
}

/** Mean TargetResponseTime in seconds weighted by requests, or undefined without a weighted minute. */
export function meanLatency(t: TargetGroupTotals): number | undefined {
  return t.latencyWeight > 0 ? t.latencySum / t.latencyWeight : undefined;
}
