import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/fields.js';
import {
  ANALYSIS_DEFAULTS,
  analysisPluginPath,
  parseAnalysisConfig,
  type AnalysisConfig,
} from '../../src/analysis/config.js';
import { formatDuration, parseGoDuration } from '../../src/analysis/duration.js';

const PATH = analysisPluginPath('argoproj-labs/alb', 'canary-vs-stable');
const parse = (block: unknown, otherFields?: string[]): AnalysisConfig =>
  parseAnalysisConfig(block, { path: PATH, ...(otherFields ? { otherFields } : {}) });

function refusal(block: unknown, otherFields?: string[]): ConfigError {
  try {
    parse(block, otherFields);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(block)}`);
}

describe('parseGoDuration', () => {
  it.each<[string, number | undefined]>([
    ['0', 0],
    ['5m', 300],
    ['90s', 90],
    ['1m30s', 90],
    ['1.5h', 5400],
    ['.5m', 30],
    ['1h2m3s', 3723],
    ['1500ms', 1.5],
    ['2m0s', 120],
    ['100us', 0],
    ['1µs', 0],
    ['', undefined],
    ['5', undefined],
    ['-5m', undefined],
    ['+5m', undefined],
    ['5 m', undefined],
    ['5min', undefined],
    ['5d', undefined],
    ['m', undefined],
    ['5m ', undefined],
    ['1e3s', undefined],
  ])('%j → %j seconds', (text, seconds) => {
    expect(parseGoDuration(text)).toBe(seconds);
  });

  it.each<[number, string]>([
    [0, '0s'],
    [300, '5m'],
    [90, '1m30s'],
    [3600, '1h'],
    [86400, '24h'],
    [3723, '1h2m3s'],
    [1.5, '1.5s'],
  ])('formatDuration(%j) = %j', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});

describe('analysisPluginPath', () => {
  it('names the metric and the plugin as the AnalysisTemplate does', () => {
    expect(PATH).toBe('spec.metrics[name="canary-vs-stable"].provider.plugin["argoproj-labs/alb"]');
    expect(analysisPluginPath('acme/alb')).toBe('spec.metrics[].provider.plugin["acme/alb"]');
  });
});

describe('parseAnalysisConfig: accepted blocks', () => {
  it.each<[string, Record<string, unknown>, AnalysisConfig]>([
    ['one check, every default', { maxErrorRate: 0.05 }, { ...ANALYSIS_DEFAULTS, maxErrorRate: 0.05 }],
    [
      'every field',
      {
        lookback: '10m', settleDelay: '90s', minRequests: 200, maxErrorRate: 0.05, maxErrorRateIncrease: 0.01,
        maxLatencySeconds: 0.5, maxLatencyIncrease: 0.2, maxElb5xxCount: 10,
      },
      {
        lookbackSeconds: 600, settleDelaySeconds: 90, minRequests: 200, maxErrorRate: 0.05, maxErrorRateIncrease: 0.01,
        maxLatencySeconds: 0.5, maxLatencyIncrease: 0.2, maxElb5xxCount: 10,
      },
    ],
    ['numbers as strings ({{args.x}} substituted)', { maxErrorRate: '0.05', minRequests: '100', maxElb5xxCount: '0' },
      { ...ANALYSIS_DEFAULTS, maxErrorRate: 0.05, minRequests: 100, maxElb5xxCount: 0 }],
    ['zero thresholds are allowed (no 5xx at all, not one point more)', { maxErrorRate: 0, maxErrorRateIncrease: 0, maxLatencyIncrease: 0 },
      { ...ANALYSIS_DEFAULTS, maxErrorRate: 0, maxErrorRateIncrease: 0, maxLatencyIncrease: 0 }],
    ['settleDelay 0', { settleDelay: '0', maxErrorRate: 1 }, { ...ANALYSIS_DEFAULTS, settleDelaySeconds: 0, maxErrorRate: 1 }],
    ['lookback 1h in minutes', { lookback: '60m', maxLatencySeconds: 1 }, { ...ANALYSIS_DEFAULTS, lookbackSeconds: 3600, maxLatencySeconds: 1 }],
    ['the longest lookback', { lookback: '24h', maxElb5xxCount: 0 }, { ...ANALYSIS_DEFAULTS, lookbackSeconds: 86400, maxElb5xxCount: 0 }],
    ['a duration with spaces around it', { lookback: ' 5m ', maxErrorRate: 0.1 }, { ...ANALYSIS_DEFAULTS, maxErrorRate: 0.1 }],
    ['a large latency increase (3× slower)', { maxLatencyIncrease: 2 }, { ...ANALYSIS_DEFAULTS, maxLatencyIncrease: 2 }],
  ])('%s', (_name, block, want) => {
    expect(parse(block)).toEqual(want);
  });

  it('leaves the discovery its own fields', () => {
    expect(parse({ rollout: 'shop', maxErrorRate: 0.1 }, ['rollout'])).toEqual({ ...ANALYSIS_DEFAULTS, maxErrorRate: 0.1 });
  });

  it('documents its defaults: a 5-minute window ending 2 minutes ago, 50 requests', () => {
    expect(ANALYSIS_DEFAULTS).toEqual({ lookbackSeconds: 300, settleDelaySeconds: 120, minRequests: 50 });
  });
});

describe('parseAnalysisConfig: refusals name the field and the fix', () => {
  it.each<[string, unknown, string, string]>([
    ['no block', undefined, PATH, 'missing; configure at least one check'],
    ['null block', null, PATH, 'missing; configure at least one check'],
    ['a list', [], PATH, 'not an object'],
    ['no check', {}, PATH, 'no check is configured, so any traffic would pass; set at least one of maxErrorRate, maxErrorRateIncrease, maxLatencySeconds, maxLatencyIncrease, maxElb5xxCount'],
    ['only window fields', { lookback: '5m', minRequests: 10 }, PATH, 'no check is configured'],
    ['unknown field', { maxErrors: 3, maxErrorRate: 0.1 }, `${PATH}.maxErrors`, 'unknown field; the fields are lookback, settleDelay, minRequests, maxErrorRate'],
    ['interval (the metric\'s own)', { interval: '5m', maxErrorRate: 0.1 }, `${PATH}.interval`, "interval is the metric's own field"],
    ['window', { window: '5m', maxErrorRate: 0.1 }, `${PATH}.window`, 'called lookback'],
    ['elb5xxGuard', { elb5xxGuard: 10 }, `${PATH}.elb5xxGuard`, 'maxElb5xxCount'],
    ['percentile', { percentile: 99, maxErrorRate: 0.1 }, `${PATH}.percentile`, 'percentiles are not supported'],
    ['maxLatency', { maxLatency: 1 }, `${PATH}.maxLatency`, 'maxLatencySeconds (seconds)'],
    ['lookback as a number', { lookback: 5, maxErrorRate: 0.1 }, `${PATH}.lookback`, '5 is not a duration (a bare number has no unit; write "5s" or "5m")'],
    ['lookback in an unknown unit', { lookback: '5min', maxErrorRate: 0.1 }, `${PATH}.lookback`, '"5min" is not a duration; write e.g. "5m"'],
    ['lookback not whole minutes', { lookback: '90s', maxErrorRate: 0.1 }, `${PATH}.lookback`, '"90s" is not a whole number of minutes'],
    ['lookback under a minute', { lookback: '30s', maxErrorRate: 0.1 }, `${PATH}.lookback`, 'not a whole number of minutes'],
    ['lookback 0', { lookback: '0', maxErrorRate: 0.1 }, `${PATH}.lookback`, 'not a whole number of minutes'],
    ['lookback over a day', { lookback: '25h', maxErrorRate: 0.1 }, `${PATH}.lookback`, 'longer than 24h'],
    ['settleDelay negative', { settleDelay: '-1m', maxErrorRate: 0.1 }, `${PATH}.settleDelay`, 'is not a duration'],
    ['settleDelay over an hour', { settleDelay: '2h', maxErrorRate: 0.1 }, `${PATH}.settleDelay`, 'longer than 1h'],
    ['minRequests 0', { minRequests: 0, maxErrorRate: 0.1 }, `${PATH}.minRequests`, '0 is not a whole number ≥ 1'],
    ['minRequests fractional', { minRequests: 2.5, maxErrorRate: 0.1 }, `${PATH}.minRequests`, 'not a whole number ≥ 1'],
    ['maxErrorRate as a percentage', { maxErrorRate: 5 }, `${PATH}.maxErrorRate`, '5 is above 1: it is a fraction, not a percentage (for 5 % write 0.05)'],
    ['maxErrorRate as "5%"', { maxErrorRate: '5%' }, `${PATH}.maxErrorRate`, '"5%" is not a fraction between 0 and 1; write e.g. 0.05 for 5 %'],
    ['maxErrorRate negative', { maxErrorRate: -0.1 }, `${PATH}.maxErrorRate`, 'not a fraction between 0 and 1'],
    ['maxErrorRate NaN', { maxErrorRate: Number.NaN }, `${PATH}.maxErrorRate`, 'not a fraction'],
    ['maxErrorRate true', { maxErrorRate: true }, `${PATH}.maxErrorRate`, 'true is not a fraction'],
    ['maxErrorRateIncrease above 1', { maxErrorRateIncrease: 1000 }, `${PATH}.maxErrorRateIncrease`, 'it is a fraction, not a percentage'],
    ['maxLatencySeconds 0', { maxLatencySeconds: 0 }, `${PATH}.maxLatencySeconds`, '0 is not a positive number; set the ceiling in seconds'],
    ['maxLatencySeconds "500ms"', { maxLatencySeconds: '500ms' }, `${PATH}.maxLatencySeconds`, 'not a positive number'],
    ['maxLatencyIncrease negative', { maxLatencyIncrease: -0.2 }, `${PATH}.maxLatencyIncrease`, 'is not a number ≥ 0'],
    ['maxElb5xxCount negative', { maxElb5xxCount: -1 }, `${PATH}.maxElb5xxCount`, 'not a whole number ≥ 0'],
    ['maxElb5xxCount fractional', { maxElb5xxCount: 0.5 }, `${PATH}.maxElb5xxCount`, 'not a whole number ≥ 0'],
  ])('%s', (_name, block, field, problem) => {
    const e = refusal(block);
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.message).toContain(problem);
  });

  it('lists the discovery fields among the known ones', () => {
    expect(refusal({ bogus: 1 }, ['rollout']).message).toContain('maxElb5xxCount, rollout');
  });
});
