// Sidecar settings: every one is a flag and an environment variable with a default. The table below is
// the single source for parsing, defaults and `--help`.

import { DEFAULT_PLUGIN_NAME } from './plugin/router.js';
import { DEFAULT_METRIC_PLUGIN_NAME } from './plugin/metric-provider.js';

export type VerifyMode = 'healthy' | 'registered';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface Settings {
  pluginName: string;
  metricPluginName: string;
  pluginListen: string;
  httpListen: string;
  apiAllowRemote: boolean;
  awsVerifyTargetGroup: boolean;
  albIngressClasses: string[];
  albTagKeyResourceId: string;
  awsTargetGroupBindingApiVersion: string;
  verifyMode: VerifyMode;
  awsRateLimit: number;
  awsRateBurst: number;
  apiAwsRateLimit: number;
  apiAwsRateBurst: number;
  awsRegion?: string;
  awsEndpoint?: string;
  cloudwatchEndpoint?: string;
  cloudwatchRateLimit: number;
  cloudwatchRateBurst: number;
  kubeconfig?: string;
  rpcTimeoutSeconds: number;
  logLevel: LogLevel;
  benchNoopRouter: boolean;
  cleanup: boolean;
  cleanupSweepSeconds: number;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  controllerInstanceId?: string;
  leaderElectionHostname?: string;
}

type Kind = 'string' | 'bool' | 'number' | 'list';

interface Option {
  key: keyof Settings;
  flag: string;
  kind: Kind;
  help: string;
  default?: string | boolean | number | string[];
  choices?: readonly string[];
  min?: number;
  /** Accepted as usual but left out of `--help` (benchmark and test switches, not for production). */
  hidden?: boolean;
}

export const ENV_PREFIX = 'ALB_PLUGIN_';

export const OPTIONS: readonly Option[] = [
  { key: 'pluginName', flag: 'plugin-name', kind: 'string', default: DEFAULT_PLUGIN_NAME,
    help: 'Key of this plugin under spec.strategy.canary.trafficRouting.plugins (the ConfigMap entry name)' },
  { key: 'metricPluginName', flag: 'metric-plugin-name', kind: 'string', default: DEFAULT_METRIC_PLUGIN_NAME,
    help: "Key of this plugin under an AnalysisTemplate metric's provider.plugin (the metricProviderPlugins entry name)" },
  { key: 'pluginListen', flag: 'plugin-listen', kind: 'string', default: '127.0.0.1:3001',
    help: 'host:port the go-plugin (netrpc) listener binds; the handshake binary connects here' },
  { key: 'httpListen', flag: 'http-listen', kind: 'string', default: '0.0.0.0:8095',
    help: 'host:port of the HTTP server (health, metrics, JSON API); 8080 and 8090 are the controller\'s own in the same pod' },
  { key: 'apiAllowRemote', flag: 'api-allow-remote', kind: 'bool', default: false,
    help: 'Serve the JSON API (/api/v1, which reads Rollouts of every namespace and checks ELBv2 on demand) to other pods too; off: only to the pod itself (loopback), where the controller runs AnalysisTemplate web metrics' },
  { key: 'awsVerifyTargetGroup', flag: 'aws-verify-target-group', kind: 'bool', default: false,
    help: 'Verify weights and target-group IPs against the ELBv2 API (off: VerifyWeight answers NotImplemented)' },
  { key: 'albIngressClasses', flag: 'alb-ingress-classes', kind: 'list', default: ['alb'],
    help: "Ingress classes handled as ALB; repeatable or comma-separated; '' means Ingresses without a class" },
  { key: 'albTagKeyResourceId', flag: 'alb-tag-key-resource-id', kind: 'string', default: 'ingress.k8s.aws/resource',
    help: 'Tag key the AWS Load Balancer Controller puts the <ns>/<ingress>-<svc>:<port> resource id under' },
  { key: 'awsTargetGroupBindingApiVersion', flag: 'aws-target-group-binding-api-version', kind: 'string',
    default: 'elbv2.k8s.aws/v1beta1', choices: ['elbv2.k8s.aws/v1beta1', 'eks.amazonaws.com/v1'],
    help: 'apiVersion of TargetGroupBinding objects (eks.amazonaws.com/v1 on EKS Auto Mode)' },
  { key: 'verifyMode', flag: 'verify-mode', kind: 'string', default: 'healthy', choices: ['healthy', 'registered'],
    help: 'Target verification: "healthy" counts only healthy targets, "registered" any registered one (Argo)' },
  { key: 'awsRateLimit', flag: 'aws-rate-limit', kind: 'number', default: 2, min: 0.01,
    help: 'ELBv2 requests per second this sidecar may send (the account refill of 10/s is shared with the LBC)' },
  { key: 'awsRateBurst', flag: 'aws-rate-burst', kind: 'number', default: 5, min: 1,
    help: 'ELBv2 request burst size' },
  { key: 'apiAwsRateLimit', flag: 'api-aws-rate-limit', kind: 'number', default: 1, min: 0.1,
    help: 'ELBv2 requests per second for checks the JSON API runs (/verify, reports): a budget of their own, so API requests never take tokens from Argo\'s VerifyWeight' },
  { key: 'apiAwsRateBurst', flag: 'api-aws-rate-burst', kind: 'number', default: 5, min: 1,
    help: 'Burst of the JSON API\'s own ELBv2 budget' },
  { key: 'awsRegion', flag: 'aws-region', kind: 'string',
    help: 'AWS region (default: the SDK chain, AWS_REGION)' },
  { key: 'awsEndpoint', flag: 'aws-endpoint', kind: 'string',
    help: 'ELBv2 endpoint override, e.g. a VPC endpoint or a local emulator' },
  { key: 'cloudwatchEndpoint', flag: 'cloudwatch-endpoint', kind: 'string',
    help: 'CloudWatch endpoint override for the analysis (GetMetricData), e.g. a VPC endpoint or a local emulator; --aws-endpoint does not apply to it' },
  { key: 'cloudwatchRateLimit', flag: 'cloudwatch-rate-limit', kind: 'number', default: 5, min: 0.01,
    help: 'CloudWatch GetMetricData requests per second for the analysis, a budget apart from ELBv2\'s (the account quota, 50/s by default, is shared with dashboards and alarms)' },
  { key: 'cloudwatchRateBurst', flag: 'cloudwatch-rate-burst', kind: 'number', default: 10, min: 1,
    help: 'CloudWatch request burst size' },
  { key: 'kubeconfig', flag: 'kubeconfig', kind: 'string',
    help: 'Path to a kubeconfig (default: KUBECONFIG, then ~/.kube/config, then in-cluster)' },
  { key: 'rpcTimeoutSeconds', flag: 'rpc-timeout-seconds', kind: 'number', default: 25, min: 1,
    help: 'Deadline of one plugin call; a call that runs out answers with an error instead of hanging the controller' },
  { key: 'logLevel', flag: 'log-level', kind: 'string', default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], help: 'Log level' },
  { key: 'benchNoopRouter', flag: 'bench-noop-router', kind: 'bool', default: false, hidden: true,
    help: 'Benchmarks only: answer every plugin call at once and touch nothing (times the protocol path alone)' },
  { key: 'cleanup', flag: 'cleanup', kind: 'bool', default: true,
    help: 'Watch Rollouts and release their Ingresses (action back to 100 % stable, header routes removed) when a Rollout is deleted or stops naming an Ingress' },
  { key: 'cleanupSweepSeconds', flag: 'cleanup-sweep-seconds', kind: 'number', default: 300, min: 10,
    help: 'How often Ingresses are swept for managed entries of Rollouts that no longer exist (deletions missed while the sidecar was down)' },
  { key: 'leaderElect', flag: 'leader-elect', kind: 'bool', default: true,
    help: "Run the background work (Rollout watch, cleanup sweeps) only while this pod's Argo Rollouts controller holds its leader Lease; set false only when the controller runs with --leader-elect=false" },
  { key: 'leaderElectionNamespace', flag: 'leader-election-namespace', kind: 'string',
    help: "Namespace of the controller's leader Lease (default: as the controller finds it: POD_NAMESPACE, else the ServiceAccount's namespace, else argo-rollouts)" },
  { key: 'controllerInstanceId', flag: 'controller-instance-id', kind: 'string',
    help: "The controller's --instance-id, if it runs with one: its leader Lease is then argo-rollouts-controller-lock-<id>" },
  { key: 'leaderElectionHostname', flag: 'leader-election-hostname', kind: 'string', hidden: true,
    help: "Tests only: the hostname whose controller counts as this pod's (default: the hostname, which is the pod name)" },
];

export class SettingsError extends Error {
  override name = 'SettingsError';
}

export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

function parseBool(text: string, where: string): boolean {
  const t = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off', ''].includes(t)) return false;
  throw new SettingsError(`${where}: "${text}" is not a boolean; use true or false`);
}

function convert(opt: Option, raw: string[], where: string): string | boolean | number | string[] {
  const last = raw[raw.length - 1] ?? '';
  switch (opt.kind) {
    case 'bool':
      return parseBool(last, where);
    case 'number': {
      const n = Number(last);
      if (last.trim() === '' || !Number.isFinite(n)) {
        throw new SettingsError(`${where}: "${last}" is not a number`);
      }
      if (opt.min !== undefined && n < opt.min) {
        throw new SettingsError(`${where}: ${n} is below the minimum ${opt.min}`);
      }
      return n;
    }
    case 'list':
      // `--alb-ingress-classes ''` must mean "the empty class", so an empty value is kept as one entry.
      return raw.flatMap((v) => (v === '' ? [''] : v.split(',').map((s) => s.trim())));
    case 'string':
      if (opt.choices && !opt.choices.includes(last)) {
        throw new SettingsError(`${where}: "${last}" is not one of ${opt.choices.join(', ')}`);
      }
      return last;
  }
}

function checkListen(value: string, where: string): void {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || m[1] === '' || port > 65535) {
    throw new SettingsError(`${where}: "${value}" is not host:port (for example 127.0.0.1:3001)`);
  }
}

export interface ParsedArgs {
  settings: Settings;
  help: boolean;
  /** `--version`: print the version and exit (settings are still parsed and checked first). */
  version: boolean;
}

/** Flags win over environment variables, which win over defaults. */
export function parseSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const fromFlags = new Map<Option, string[]>();
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version') {
      version = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new SettingsError(`unexpected argument "${arg}"; see --help`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const opt = byFlag.get(name);
    if (!opt) throw new SettingsError(`unknown flag --${name}; see --help`);
    if (value === undefined) {
      const next = argv[i + 1];
      if (opt.kind === 'bool' && (next === undefined || next.startsWith('--'))) {
        value = 'true';
      } else if (next === undefined) {
        throw new SettingsError(`--${name} needs a value`);
      } else {
        value = next;
        i++;
      }
    }
    fromFlags.set(opt, [...(fromFlags.get(opt) ?? []), value]);
  }

  const out: Record<string, unknown> = {};
  for (const opt of OPTIONS) {
    const flagValues = fromFlags.get(opt);
    const envValue = env[envName(opt.flag)];
    if (flagValues) {
      out[opt.key] = convert(opt, flagValues, `--${opt.flag}`);
    } else if (envValue !== undefined) {
      out[opt.key] = convert(opt, [envValue], envName(opt.flag));
    } else if (opt.default !== undefined) {
      out[opt.key] = Array.isArray(opt.default) ? [...opt.default] : opt.default;
    }
  }
  const settings = out as unknown as Settings;
  checkListen(settings.pluginListen, '--plugin-listen');
  checkListen(settings.httpListen, '--http-listen');
  if (settings.pluginName.trim() === '') throw new SettingsError('--plugin-name: must not be empty');
  if (settings.metricPluginName.trim() === '') throw new SettingsError('--metric-plugin-name: must not be empty');
  if (settings.leaderElectionNamespace !== undefined && settings.leaderElectionNamespace.trim() === '') {
    throw new SettingsError('--leader-election-namespace: must not be empty; leave it out to use POD_NAMESPACE or the ServiceAccount\'s namespace');
  }
  return { settings, help, version };
}

export function helpText(): string {
  const lines = [
    'Usage: rollouts-plugin-trafficrouter-alb [flags]',
    '',
    'Every flag can also be set by the environment variable shown.',
    '',
    '  --help, -h   print this text and exit',
    '  --version    print the version and exit',
    '',
  ];
  for (const o of OPTIONS) {
    if (o.hidden) continue;
    const def = o.default === undefined ? '' : ` (default ${JSON.stringify(o.default)})`;
    lines.push(`  --${o.flag}${o.kind === 'bool' ? '' : ' VALUE'}   [${envName(o.flag)}]${def}`);
    lines.push(`      ${o.help}`);
  }
  return lines.join('\n') + '\n';
}
