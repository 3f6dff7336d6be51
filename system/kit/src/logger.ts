import { type DestinationStream, type Logger, pino } from 'pino';
import { activeTraceIds } from './tracing.ts';

export type { Logger };

// Anything that can carry a credential is removed before a line is written, wherever it sits in the object.
const REDACTED_PATHS = [
  'password',
  '*.password',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admission-token"]',
  'headers.authorization',
  'body.password',
  'body.refreshToken',
];

export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      name: service,
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Every line written while a request or a saga step is being handled names its trace, so one booking's
      // lines can be pulled out of all three services' logs with one id, collector or not.
      mixin: activeTraceIds,
    },
    destination,
  );
}
