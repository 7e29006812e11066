import pino, { type Logger } from 'pino';

/** The structured JSON logger. Authorization headers and secrets are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'baton' },
    redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  });
}
