import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import './express-locals.ts';
import { cors } from './cors.ts';
import { type ReadinessCheck, readiness } from './health.ts';
import { type LoadShedderOptions, loadShedder } from './load-shedder.ts';
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
  /** Browser origins that may call the API (kit/cors.ts); none when left out. */
  corsOrigins?: readonly string[];
  /** Quick 503s with Retry-After when saturated (docs/overload.md). */
  shedding?: Omit<LoadShedderOptions, 'registry'>;
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

/** PostgreSQL's character_not_in_repertoire and untranslatable_character. */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

function errorHandler(): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const instance = req.originalUrl;
    const problem = error instanceof ProblemError ? error : bodyParserProblem(error);
    if (problem !== undefined) {
      sendProblem(res, problem, instance);
      return;
    }
    if (UNSTORABLE_TEXT.has((error as { code?: string }).code ?? '')) {
      // Text PostgreSQL cannot hold (a NUL, or a character the encoding lacks) that got past validation.
      sendProblem(
        res,
        new ProblemError(
          400,
          'unsupported-character',
          'Unsupported character',
          'The request holds text that cannot be stored',
        ),
        instance,
      );
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

// Swagger UI's static build (no dependencies, nothing fetched from elsewhere), served with the service.
const SWAGGER_UI_ASSETS = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

function apiReferencePage(service: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${service}: API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/openapi.json', dom_id: '#reference', deepLinking: true });</script>
</body>
</html>
`;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A body that is not JSON is refused as such, rather than read as no body at all and answered 400. */
function jsonBodiesOnly(): RequestHandler {
  return (req, _res, next) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!BODY_METHODS.has(req.method) || !hasBody || req.is('application/json') === 'application/json') {
      next();
      return;
    }
    next(
      new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported Media Type',
        `Send the body as application/json, not ${req.get('content-type') ?? 'without a Content-Type'}`,
        { headers: { 'Accept-Post': 'application/json' } },
      ),
    );
  };
}

/**
 * A path the service knows, asked with a method it does not serve: 405 with the methods it does serve (RFC 9110),
 * rather than a 404 that says the resource is not there.
 */
interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): boolean;
}

function methodNotAllowed(app: Express): RequestHandler {
  return (req, _res, next) => {
    const allowed = new Set<string>();
    // express's own types leave out what its router layers expose: a route's methods and the path matcher.
    const layers = app.router.stack as unknown as RouteLayer[];
    for (const layer of layers) {
      if (layer.route === undefined || !layer.match(req.path)) continue;
      for (const method of Object.keys(layer.route.methods)) allowed.add(method.toUpperCase());
    }
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed].sort().join(', ');
    next(
      new ProblemError(
        405,
        'method-not-allowed',
        'Method Not Allowed',
        `${req.method} is not served here; use ${allow}`,
        {
          headers: { Allow: allow },
        },
      ),
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
  // Before shedding: a preflight is answered here, costs nothing, and a refused one would only be sent again.
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) app.use(cors(options.corsOrigins));
  if (options.shedding !== undefined)
    app.use(loadShedder({ ...options.shedding, registry: options.metrics.registry }));
  app.use(jsonBodiesOnly());
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
  app.use('/docs/assets', express.static(SWAGGER_UI_ASSETS, { index: false, fallthrough: true }));
  app.get('/docs', (_req, res) => {
    res.type('html').send(apiReferencePage(options.service));
  });

  options.routes(app);

  app.use(methodNotAllowed(app));
  app.use((req, _res, next) => next(new NotFoundProblem(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler());
  return app;
}
