import { z } from 'zod';
import { corsOriginsSchema } from './cors.ts';

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

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const ADDRESS_OR_CIDR = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

/**
 * Express's "trust proxy", made safe to configure: a number of proxy hops in front of the service, or a list of
 * the proxies' addresses (IPs, CIDRs, or loopback / linklocal / uniquelocal). "true" is refused: it trusts every
 * hop, so the left-most X-Forwarded-For, which the client writes, would become the address rate limits count.
 */
export const trustProxySchema = z
  .string()
  .trim()
  .default('false')
  .transform((raw, ctx): false | number | string[] => {
    if (raw === 'false' || raw === '' || raw === '0') return false;
    if (raw === 'true') {
      ctx.addIssue({
        code: 'custom',
        message:
          'trusting every hop lets any client choose its own address; give a hop count (1 behind one proxy) or the trusted proxies (loopback, 10.0.0.0/8, …)',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(raw)) return Number(raw);
    const list = raw.split(',').map((p) => p.trim());
    const bad = list.filter((p) => !PROXY_NAMES.has(p) && !ADDRESS_OR_CIDR.test(p));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `not a hop count or a list of trusted proxies: ${bad.join(', ')}`,
      });
      return z.NEVER;
    }
    return list;
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
  TRUST_PROXY: trustProxySchema,
  /** Browser origins allowed to call the API (the web page's); `*` is refused. */
  CORS_ORIGINS: corsOriginsSchema,
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** Shedding (docs/overload.md): requests in flight at once beyond which a new one gets 503 + Retry-After. */
  HTTP_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(512),
  /** Shedding: how long a queue for database connections may stand before new requests get 503. */
  HTTP_SHED_QUEUE_MS: z.coerce.number().int().min(1).default(1000),
  HTTP_SHED_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(60).default(2),
  /** How long readiness says DOWN before the server stops taking requests, so load balancers notice first. */
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
});

/**
 * The development defaults that are credentials. With NODE_ENV=production each one must have been changed, and
 * start-up names every one that was not.
 */
export function refuseDevelopmentDefaults(defaults: Record<string, string>) {
  return (config: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (config.NODE_ENV !== 'production') return;
    for (const [variable, value] of Object.entries(defaults)) {
      if (config[variable] === value)
        ctx.addIssue({
          code: 'custom',
          path: [variable],
          message:
            'is the development default, which must not be used with NODE_ENV=production: set your own',
        });
    }
  };
}

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
