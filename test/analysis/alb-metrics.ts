// Publishes ALB metrics into moto's CloudWatch the way AWS publishes them (docs: "CloudWatch metrics for your
// Application Load Balancer"): namespace AWS/ApplicationELB, one datapoint per minute stamped at the minute's
// start, only for minutes with requests; the per-target-group metrics under {LoadBalancer, TargetGroup} and
// again per Availability Zone {AvailabilityZone, LoadBalancer, TargetGroup}; RequestCount also per load balancer
// {LoadBalancer}; HTTPCode_Target_5XX_Count only in minutes with a 5xx; HTTPCode_ELB_5XX_Count per load balancer
// only. The extra dimension sets are there so a query that matched loosely would count twice and be caught.
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../support/moto.js';

export const NAMESPACE = 'AWS/ApplicationELB';
const AZS = ['us-west-2a', 'us-west-2b'];

export function cloudwatchClient(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 });
}

export interface MinuteTraffic {
  /** Start of the minute (a multiple of 60 s). */
  at: Date;
  requests: number;
  /** Target 5xx in the minute; 0 publishes nothing, as AWS does. */
  errors?: number;
  /** Mean TargetResponseTime of the minute, seconds. */
  latency?: number;
}

/** Splits n into two whole parts (two AZs). */
const halves = (n: number): [number, number] => [Math.ceil(n / 2), Math.floor(n / 2)];

export function targetGroupDatums(loadBalancer: string, targetGroup: string, minutes: readonly MinuteTraffic[]): MetricDatum[] {
  const out: MetricDatum[] = [];
  for (const m of minutes) {
    if (m.requests <= 0) continue; // no requests, no datapoints at all
    const latency = m.latency ?? 0.05;
    const sets = [
      { dims: [{ Name: 'LoadBalancer', Value: loadBalancer }, { Name: 'TargetGroup', Value: targetGroup }], share: 1 },
      ...AZS.map((az, i) => ({
        dims: [{ Name: 'AvailabilityZone', Value: az }, { Name: 'LoadBalancer', Value: loadBalancer }, { Name: 'TargetGroup', Value: targetGroup }],
        share: i,
      })),
    ];
    for (const [k, set] of sets.entries()) {
      const requests = k === 0 ? m.requests : halves(m.requests)[set.share]!;
      const errors = k === 0 ? (m.errors ?? 0) : halves(m.errors ?? 0)[set.share]!;
      if (requests > 0) {
        out.push({ MetricName: 'RequestCount', Dimensions: set.dims, Timestamp: m.at, Value: requests, Unit: 'Count' });
        out.push({
          MetricName: 'TargetResponseTime',
          Dimensions: set.dims,
          Timestamp: m.at,
          // ALB publishes a statistic set per minute: every request is a sample.
          StatisticValues: { SampleCount: requests, Sum: latency * requests, Minimum: latency / 2, Maximum: latency * 3 },
          Unit: 'Seconds',
        });
      }
      if (errors > 0) out.push({ MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: set.dims, Timestamp: m.at, Value: errors, Unit: 'Count' });
    }
  }
  return out;
}

/** RequestCount per load balancer (the sum over its target groups) and its own 5xx. */
export function loadBalancerDatums(loadBalancer: string, minutes: ReadonlyArray<{ at: Date; requests: number; elb5xx?: number }>): MetricDatum[] {
  const dims = [{ Name: 'LoadBalancer', Value: loadBalancer }];
  const out: MetricDatum[] = [];
  for (const m of minutes) {
    if (m.requests > 0) out.push({ MetricName: 'RequestCount', Dimensions: dims, Timestamp: m.at, Value: m.requests, Unit: 'Count' });
    if ((m.elb5xx ?? 0) > 0) out.push({ MetricName: 'HTTPCode_ELB_5XX_Count', Dimensions: dims, Timestamp: m.at, Value: m.elb5xx, Unit: 'Count' });
  }
  return out;
}

/** PutMetricData in batches (AWS takes at most 1000 datums per call). */
export async function putDatums(cw: CloudWatchClient, datums: readonly MetricDatum[]): Promise<void> {
  for (let i = 0; i < datums.length; i += 500) {
    await cw.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: datums.slice(i, i + 500) }));
  }
}
