// Structured JSON logs. Secrets and message bodies never reach info level:
// credentials are redacted wherever they could appear.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'messaging-gateway' },
    redact: {
      paths: ['authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'config.*.secret', 'rawBody', '*.rawBody'],
      censor: '[redacted]',
    },
  });
}
