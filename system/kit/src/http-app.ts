import { randomUUID } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import './express-locals.ts';
import { type ReadinessCheck, readiness } from './health.ts';
import type { Logger } from './logger.ts';
import type { ServiceMetrics } from './metrics.ts';
import { NotFoundProblem, ProblemError, ServiceUnavailableProblem } from './problem.ts';
import { extractTraceContext, markSpanFailed, SpanKind, type Tracer } from './tracing.ts';
import { isTransientError } from './transient-errors.ts';

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  metrics: ServiceMetrics;
  tracer: Tracer;
  bodyLimit: string;
  readinessChecks: readonly ReadinessCheck[];
  openapi: object;
  /** Mounts the service's own routes. */
  routes: (app: Express) => void;
  /** Express "trust proxy": a hop count or the trusted proxies' addresses (see trustProxySchema). */
  trustProxy?: boolean | number | string[];
  /** True once shutdown has begun: readiness then answers 503, so load balancers stop sending new requests. */
  isDraining?: () => boolean;
}

const REQUEST_ID = /^[\w.-]{1,128}$/;

function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.locals.log = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);
    next();
  };
}

function routeOf(req: express.Request): string {
  // The route template, never the raw URL: raw URLs would make one series (and span name) per reservation id.
  return req.route?.path === undefined ? 'unmatched' : `${req.baseUrl}${String(req.route.path)}`;
}

/**
 * A server span per request, child of the caller's `traceparent` when it sends one, so a fan's sign-in,
 * queue, reservation and the saga behind it can form one trace.
 */
function requestSpan(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    // Scrapes and probes arrive every few seconds and belong to no booking; as spans they would only bury them.
    if (req.path === '/metrics' || req.path.startsWith('/actuator/')) {
      next();
      return;
    }
    const parent = extractTraceContext(req.headers);
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeOf(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
      if (res.statusCode >= 500) markSpanFailed(span, `HTTP ${res.statusCode}`);
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    // Everything downstream (body parsing included) runs in this context, and so do its log lines.
    context.with(trace.setSpan(parent, span), next);
  };
}

function redMetrics(metrics: ServiceMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      end({ method: req.method, route: routeOf(req), status_code: String(res.statusCode) });
    });
    next();
  };
}

function sendProblem(res: express.Response, problem: ProblemError, instance: string): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify(problem.toBody(instance)));
}

/** Body-parser failures carry a `type`; each becomes a problem the client can understand. */
function bodyParserProblem(error: {
  type?: string;
  limit?: number;
  message?: string;
}): ProblemError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new ProblemError(400, 'malformed-json', 'Malformed JSON', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new ProblemError(
        413,
        'payload-too-large',
        'Payload Too Large',
        `The request body exceeds ${error.limit} bytes`,
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProblemError(415, 'unsupported-media-type', 'Unsupported Media Type', error.message);
    default:
      return undefined;
  }
}

function errorHandler(): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const instance = req.originalUrl;
    const problem = error instanceof ProblemError ? error : bodyParserProblem(error);
    if (problem !== undefined) {
      sendProblem(res, problem, instance);
      return;
    }
    if (isTransientError(error)) {
      // A dependency is away or saturated (PostgreSQL, Redis): the client can try again shortly, and nothing is
      // wrong with the request.
      res.locals.log.warn({ err: error, method: req.method, url: req.originalUrl }, 'dependency unavailable');
      sendProblem(
        res,
        new ServiceUnavailableProblem(
          2,
          'A service this request needs is unavailable; try again shortly',
          'dependency-unavailable',
        ),
        instance,
      );
      return;
    }
    // The only place an unexpected error is logged: once, with the request it broke.
    res.locals.log.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
    sendProblem(
      res,
      new ProblemError(
        500,
        'internal',
        'Internal Server Error',
        `Something went wrong; request id ${res.locals.requestId}`,
      ),
      instance,
    );
  };
}

export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(requestSpan(options.tracer));
  app.use(requestContext(options.logger));
  app.use(redMetrics(options.metrics));
  app.use(express.json({ limit: options.bodyLimit }));

  app.get('/actuator/health/liveness', (_req, res) => {
    res.json({ status: 'UP' });
  });
  const ready: RequestHandler = async (_req, res) => {
    const report = await readiness(options.readinessChecks);
    const draining = options.isDraining?.() === true;
    const up = report.status === 'UP' && !draining;
    res.status(up ? 200 : 503).json({
      service: options.service,
      ...report,
      status: up ? 'UP' : 'DOWN',
      ...(draining ? { draining } : {}),
    });
  };
  app.get('/actuator/health', ready);
  app.get('/actuator/health/readiness', ready);
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(options.openapi);
  });

  options.routes(app);

  app.use((req, _res, next) => next(new NotFoundProblem(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler());
  return app;
}
