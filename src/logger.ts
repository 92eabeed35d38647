// One structured JSON logger (pino, the logger fastify uses) for the whole sidecar. Credentials never reach
// it: the redact list covers the places AWS and Kubernetes secrets could appear.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { component: 'rollouts-plugin-trafficrouter-alb' },
      redact: {
        paths: ['*.accessKeyId', '*.secretAccessKey', '*.sessionToken', '*.token', '*.authorization', '*.password'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stderr,
  );
}
