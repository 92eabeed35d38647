// The HTTP API's error catalogue: every error the API can answer with has a stable code, an HTTP status
// and a message template. Bodies are `{ "error": { "code", "message" } }`; docs/operations.md lists the
// codes and a test keeps the two in step.

export interface ErrorSpec {
  status: number;
  /** What the operator should read first; `%s` placeholders are filled in order. */
  template: string;
}

export const API_ERRORS = {
  ALB_ERR_ROLLOUT_NOT_FOUND: {
    status: 404,
    template: 'rollout %s not found; check the namespace and name (kubectl get rollouts -n <namespace>)',
  },
  ALB_ERR_ROLLOUT_NOT_MANAGED: {
    status: 404,
    template:
      'rollout %s does not use the plugin "%s" (spec.strategy.canary.trafficRouting.plugins); ' +
      'for a blue-green Rollout pass the Ingresses to check with ?ingress=<name>',
  },
  ALB_ERR_FORBIDDEN: {
    status: 403,
    template: 'the JSON API answers only from this pod (loopback), not from %s; run the sidecar with --api-allow-remote to serve other pods',
  },
  ALB_ERR_BAD_REQUEST: { status: 400, template: '%s' },
  ALB_ERR_NOT_FOUND: { status: 404, template: 'no route %s; see /api/v1 for the API' },
  ALB_ERR_UPSTREAM: { status: 502, template: 'could not build the report for rollout %s: %s' },
  ALB_ERR_TIMEOUT: { status: 504, template: 'the report for rollout %s took longer than %s ms; try again' },
  ALB_ERR_INTERNAL: { status: 500, template: 'internal error: %s' },
} as const satisfies Record<string, ErrorSpec>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    args: readonly (string | number)[],
    options?: { cause?: unknown },
  ) {
    const spec = API_ERRORS[code];
    let i = 0;
    super(
      spec.template.replace(/%s/g, () => String(args[i++] ?? '')),
      options,
    );
    this.status = spec.status;
  }

  toJSON(): { error: { code: ApiErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
