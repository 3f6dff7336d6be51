import { z } from 'zod';

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * OpenTelemetry's own variable names, so an operator's habits carry over. Off by default: nothing is exported
 * unless OTEL_TRACES_EXPORTER=otlp.
 */
export const tracingConfigSchema = z.object({
  OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp']).default('none'),
  /** The collector's base URL; traces go to <endpoint>/v1/traces as OTLP over HTTP with JSON. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318'),
  /** Share of new traces sampled; a trace that arrives sampled (or not) stays so. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(10).max(60_000).default(5000),
});

/** Variables every service reads. Each service extends this with its own. */
export const baseConfigSchema = tracingConfigSchema.extend({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  /** Connections reserved for the saga machinery (consumer, outbox relay, sweeps), apart from HTTP's. */
  SAGA_POOL_MAX: z.coerce.number().int().min(2).max(50).default(6),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((v) => v.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'each broker must be host:port')).min(1)),
  /** Namespaces every topic (`<prefix>saga.reservation.created`): lets test stacks share one broker. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[\w.-]*$/, 'letters, digits, dot, dash and underscore only')
    .default(''),
  HTTP_BODY_LIMIT: z.string().default('32kb'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
});

/**
 * Parses the environment once, at start-up. Every problem is reported at once, each naming its variable,
 * because fixing them one restart at a time is miserable.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const given = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
    const shown =
      given === undefined ? 'not set' : /SECRET|PASSWORD|KEY|TOKEN/i.test(variable) ? 'set' : `"${given}"`;
    return `${variable}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(problems);
}
