import { describe, expect, it } from 'vitest';
import { envName, helpText, OPTIONS, parseSettings, SettingsError, type Settings } from '../src/settings.js';

const DEFAULTS: Settings = {
  pluginName: 'argoproj-labs/alb',
  metricPluginName: 'argoproj-labs/alb-analysis',
  pluginListen: '127.0.0.1:3001',
  httpListen: '0.0.0.0:8095',
  apiAllowRemote: false,
  awsVerifyTargetGroup: false,
  albIngressClasses: ['alb'],
  albTagKeyResourceId: 'ingress.k8s.aws/resource',
  awsTargetGroupBindingApiVersion: 'elbv2.k8s.aws/v1beta1',
  verifyMode: 'healthy',
  awsRateLimit: 2,
  awsRateBurst: 5,
  apiAwsRateLimit: 1,
  apiAwsRateBurst: 5,
  cloudwatchRateLimit: 5,
  cloudwatchRateBurst: 10,
  rpcTimeoutSeconds: 25,
  logLevel: 'info',
  cleanup: true,
  cleanupSweepSeconds: 300,
  benchNoopRouter: false,
  leaderElect: true,
};

describe('defaults', () => {
  it('gives every setting its default with no flags and no environment', () => {
    expect(parseSettings([], {})).toEqual({ settings: DEFAULTS, help: false, version: false });
  });

  it('ignores environment variables without the ALB_PLUGIN_ prefix', () => {
    expect(parseSettings([], { AWS_REGION: 'eu-west-1', LOG_LEVEL: 'debug' }).settings).toEqual(DEFAULTS);
  });
});

// One row per setting: a value as the user writes it, and what it becomes.
const VALUES: Array<[keyof Settings, string, unknown]> = [
  ['pluginName', 'acme/alb', 'acme/alb'],
  ['metricPluginName', 'acme/alb-analysis', 'acme/alb-analysis'],
  ['pluginListen', '127.0.0.1:4001', '127.0.0.1:4001'],
  ['httpListen', '[::]:9090', '[::]:9090'],
  ['awsVerifyTargetGroup', 'true', true],
  ['albIngressClasses', 'alb,internal-alb', ['alb', 'internal-alb']],
  ['albTagKeyResourceId', 'example.com/resource', 'example.com/resource'],
  ['awsTargetGroupBindingApiVersion', 'eks.amazonaws.com/v1', 'eks.amazonaws.com/v1'],
  ['verifyMode', 'registered', 'registered'],
  ['awsRateLimit', '0.5', 0.5],
  ['awsRateBurst', '10', 10],
  ['awsRegion', 'eu-west-1', 'eu-west-1'],
  ['awsEndpoint', 'http://127.0.0.1:5000', 'http://127.0.0.1:5000'],
  ['cloudwatchEndpoint', 'http://127.0.0.1:5001', 'http://127.0.0.1:5001'],
  ['cloudwatchRateLimit', '1.5', 1.5],
  ['cloudwatchRateBurst', '3', 3],
  ['kubeconfig', '/home/me/.kube/config', '/home/me/.kube/config'],
  ['rpcTimeoutSeconds', '10', 10],
  ['logLevel', 'debug', 'debug'],
  ['apiAllowRemote', 'true', true],
  ['apiAwsRateLimit', '0.5', 0.5],
  ['apiAwsRateBurst', '2', 2],
  ['cleanup', 'false', false],
  ['cleanupSweepSeconds', '60', 60],
  ['benchNoopRouter', 'true', true],
  ['leaderElect', 'false', false],
  ['leaderElectionNamespace', 'platform', 'platform'],
  ['controllerInstanceId', 'blue', 'blue'],
  ['leaderElectionHostname', 'argo-rollouts-5d8f7c9b4-x2x7q', 'argo-rollouts-5d8f7c9b4-x2x7q'],
];

describe('every setting', () => {
  it('is covered by this table', () => {
    expect(VALUES.map(([k]) => k).sort()).toEqual(OPTIONS.map((o) => o.key).sort());
  });

  const flagOf = (key: keyof Settings) => OPTIONS.find((o) => o.key === key)!.flag;

  it.each(VALUES)('%s from --flag VALUE', (key, raw, want) => {
    expect(parseSettings([`--${flagOf(key)}`, raw], {}).settings[key]).toEqual(want);
  });

  it.each(VALUES)('%s from --flag=VALUE', (key, raw, want) => {
    expect(parseSettings([`--${flagOf(key)}=${raw}`], {}).settings[key]).toEqual(want);
  });

  it.each(VALUES)('%s from its environment variable', (key, raw, want) => {
    expect(parseSettings([], { [envName(flagOf(key))]: raw }).settings[key]).toEqual(want);
  });

  it.each(VALUES)('%s: the flag wins over the environment', (key, raw, want) => {
    const env = { [envName(flagOf(key))]: key === 'awsVerifyTargetGroup' ? 'false' : 'ignored-value' };
    expect(parseSettings([`--${flagOf(key)}=${raw}`], env).settings[key]).toEqual(want);
  });
});

describe('specific forms', () => {
  it.each([
    [['--aws-verify-target-group'], true],
    [['--aws-verify-target-group', '--log-level', 'warn'], true],
    [['--aws-verify-target-group', 'no'], false],
    [['--aws-verify-target-group=off'], false],
    [['--aws-verify-target-group=1'], true],
  ])('boolean %j → %s', (argv, want) => {
    expect(parseSettings(argv, {}).settings.awsVerifyTargetGroup).toBe(want);
  });

  it.each<[string[], NodeJS.ProcessEnv, string[]]>([
    [['--alb-ingress-classes', 'alb', '--alb-ingress-classes', 'internal'], {}, ['alb', 'internal']],
    [['--alb-ingress-classes', ''], {}, ['']],
    [['--alb-ingress-classes='], {}, ['']],
    [['--alb-ingress-classes', 'alb', '--alb-ingress-classes', ''], {}, ['alb', '']],
    [[], { ALB_PLUGIN_ALB_INGRESS_CLASSES: '' }, ['']],
    [[], { ALB_PLUGIN_ALB_INGRESS_CLASSES: 'alb, internal' }, ['alb', 'internal']],
    [['--alb-ingress-classes', 'x'], { ALB_PLUGIN_ALB_INGRESS_CLASSES: 'y' }, ['x']],
  ])('ingress classes %j %j → %j', (argv, env, want) => {
    expect(parseSettings(argv, env).settings.albIngressClasses).toEqual(want);
  });

  it('takes the last value of a repeated scalar flag', () => {
    expect(parseSettings(['--log-level', 'warn', '--log-level', 'error'], {}).settings.logLevel).toBe('error');
  });

  it.each([['--help'], ['-h'], ['--log-level', 'debug', '--help']])('%j asks for help', (...argv) => {
    expect(parseSettings(argv, {}).help).toBe(true);
  });

  it.each([['--version'], ['--log-level', 'debug', '--version']])('%j asks for the version', (...argv) => {
    const parsed = parseSettings(argv, {});
    expect(parsed.version).toBe(true);
    expect(parsed.help).toBe(false);
  });

  it('checks the settings even with --version (a bad value still names itself)', () => {
    expect(() => parseSettings(['--version'], { ALB_PLUGIN_LOG_LEVEL: 'loud' })).toThrow(/^ALB_PLUGIN_LOG_LEVEL: "loud" is not one of/);
  });

  it('accepts the benchmark-only flag although --help does not show it', () => {
    expect(parseSettings(['--bench-noop-router'], {}).settings.benchNoopRouter).toBe(true);
    expect(parseSettings([], { ALB_PLUGIN_BENCH_NOOP_ROUTER: 'true' }).settings.benchNoopRouter).toBe(true);
  });
});

describe('bad values stop start-up with a message naming the setting', () => {
  it.each<[string[], NodeJS.ProcessEnv, RegExp]>([
    [['--verify-mode', 'strict'], {}, /^--verify-mode: "strict" is not one of healthy, registered$/],
    [[], { ALB_PLUGIN_VERIFY_MODE: 'strict' }, /^ALB_PLUGIN_VERIFY_MODE: "strict" is not one of/],
    [['--log-level', 'loud'], {}, /^--log-level: "loud" is not one of fatal, error/],
    [['--aws-target-group-binding-api-version', 'elbv2.k8s.aws/v1'], {}, /^--aws-target-group-binding-api-version: .* is not one of/],
    [['--aws-rate-limit', 'fast'], {}, /^--aws-rate-limit: "fast" is not a number$/],
    [['--aws-rate-limit', '0'], {}, /^--aws-rate-limit: 0 is below the minimum 0.01$/],
    [[], { ALB_PLUGIN_AWS_RATE_BURST: '0' }, /^ALB_PLUGIN_AWS_RATE_BURST: 0 is below the minimum 1$/],
    [['--rpc-timeout-seconds', ''], {}, /^--rpc-timeout-seconds: "" is not a number$/],
    [['--cleanup-sweep-seconds', '5'], {}, /^--cleanup-sweep-seconds: 5 is below the minimum 10$/],
    [['--aws-verify-target-group=maybe'], {}, /^--aws-verify-target-group: "maybe" is not a boolean; use true or false$/],
    [[], { ALB_PLUGIN_CLEANUP: 'sometimes' }, /^ALB_PLUGIN_CLEANUP: "sometimes" is not a boolean/],
    [['--plugin-listen', '3001'], {}, /^--plugin-listen: "3001" is not host:port/],
    [['--http-listen', 'localhost:99999'], {}, /^--http-listen: "localhost:99999" is not host:port/],
    [[], { ALB_PLUGIN_HTTP_LISTEN: ':8095' }, /^--http-listen: ":8095" is not host:port/],
    [['--plugin-name', ' '], {}, /^--plugin-name: must not be empty$/],
    [['--metric-plugin-name', ''], {}, /^--metric-plugin-name: must not be empty$/],
    [[], { ALB_PLUGIN_LEADER_ELECTION_NAMESPACE: '' }, /^--leader-election-namespace: must not be empty; leave it out/],
    [['--no-such-flag'], {}, /^unknown flag --no-such-flag; see --help$/],
    [['verify'], {}, /^unexpected argument "verify"; see --help$/],
    [['--log-level'], {}, /^--log-level needs a value$/],
  ])('%j %j', (argv, env, message) => {
    let caught: unknown;
    try {
      parseSettings(argv, env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SettingsError);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('--help text', () => {
  const text = helpText();
  const shown = OPTIONS.filter((o) => !o.hidden);
  const hidden = OPTIONS.filter((o) => o.hidden);

  it.each(shown.map((o) => [o.flag, envName(o.flag)]))('lists --%s and %s', (flag, env) => {
    expect(text).toContain(`--${flag}`);
    expect(text).toContain(`[${env}]`);
  });

  it('hides the benchmark- and test-only flags, and only those', () => {
    expect(hidden.map((o) => o.flag)).toEqual(['bench-noop-router', 'leader-election-hostname']);
    for (const o of hidden) {
      expect(text).not.toContain(o.flag);
      expect(text).not.toContain(envName(o.flag));
      expect(text).not.toContain(o.help);
    }
    expect(text).not.toMatch(/bench/i);
  });

  it('names --help and --version', () => {
    expect(text).toMatch(/^ {2}--help, -h\b/m);
    expect(text).toMatch(/^ {2}--version\b/m);
  });

  it('shows defaults', () => {
    expect(text).toContain('(default "127.0.0.1:3001")');
    expect(text).toContain('(default ["alb"])');
    expect(text).toContain('(default 25)');
  });
});
