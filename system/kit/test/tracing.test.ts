import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import {
  createHttpApp,
  createLogger,
  createServiceMetrics,
  createTracing,
  endSpan,
  extractTraceContext,
  injectTraceContext,
  inSpan,
  inSpanContext,
  listen,
  tracingConfigSchema,
} from '../src/index.ts';
import { httpClient, type OtlpCollector, startOtlpCollector } from '../src/testing/index.ts';

function logSink() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, sink };
}

const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

describe('tracing', () => {
  let collector: OtlpCollector;
  const exporting = () =>
    tracingConfigSchema.parse({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  beforeEach(async () => {
    collector = await startOtlpCollector();
  });
  afterEach(async () => collector.close());

  it('exports nothing by default, and every span once OTEL_TRACES_EXPORTER=otlp', async () => {
    const off = createTracing('quiet', {
      ...tracingConfigSchema.parse({}),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    });
    await inSpan(off.tracer, 'unseen', {}, async () => {});
    await off.shutdown();
    assert.equal(collector.requests, 0);

    const on = createTracing('loud', exporting());
    await inSpan(on.tracer, 'seen', {}, async () => {});
    await on.shutdown();
    assert.deepEqual(
      collector.spans.map((s) => [s.service, s.name]),
      [['loud', 'seen']],
    );
  });

  it('a failed piece of work ends its span as an error and rejects with the same error, thrown at once or later', async () => {
    const tracing = createTracing('failing', exporting());
    const later = new Error('declined later');
    const atOnce = new Error('refused at once');
    await assert.rejects(
      inSpan(tracing.tracer, 'later', {}, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw later;
      }),
      (error) => error === later,
    );
    const returned = inSpan(tracing.tracer, 'at once', {}, () => {
      throw atOnce;
    });
    await assert.rejects(returned, (error) => error === atOnce);
    await inSpan(tracing.tracer, 'fine', {}, async () => {});
    await tracing.shutdown();
    const status = (name: string) => collector.spans.find((s) => s.name === name)?.statusCode;
    // 2 is ERROR in OTLP; an ended span without a status is 0 (UNSET).
    assert.deepEqual([status('later'), status('at once'), status('fine')], [2, 2, 0]);
  });

  it('a span kept by hand (a fan waiting in a queue) is active again for work resumed later, and ends with its error', async () => {
    const tracing = createTracing('by-hand', exporting());
    const waiting = tracing.tracer.startSpan('fan');
    const resumed = await new Promise<Record<string, string>>((resolve) =>
      setTimeout(() => resolve(inSpanContext(waiting, () => injectTraceContext())), 5),
    );
    const { traceId, spanId } = waiting.spanContext();
    assert.match(resumed.traceparent ?? '', new RegExp(`^00-${traceId}-${spanId}-01$`));
    endSpan(waiting, new Error('gave up'));
    endSpan(tracing.tracer.startSpan('fine'));
    await tracing.shutdown();
    const status = (name: string) => collector.spans.find((s) => s.name === name)?.statusCode;
    assert.deepEqual([status('fan'), status('fine')], [2, 0]);
  });

  it('carries a context through a carrier (headers or a row): the span started from it is a child in the same trace', async () => {
    const tracing = createTracing('carrier', exporting());
    let carrier: Record<string, string> = {};
    let parentIds = { traceId: '', spanId: '' };
    await inSpan(tracing.tracer, 'writer', {}, async (span) => {
      parentIds = span.spanContext();
      carrier = injectTraceContext();
    });
    assert.match(carrier.traceparent ?? '', new RegExp(`^00-${parentIds.traceId}-${parentIds.spanId}-01$`));
    await inSpan(tracing.tracer, 'reader', { parent: extractTraceContext(carrier) }, async () => {});
    await tracing.shutdown();
    const reader = collector.spans.find((s) => s.name === 'reader');
    assert.equal(reader?.traceId, parentIds.traceId);
    assert.equal(reader?.parentSpanId, parentIds.spanId);
  });

  it('ids travel even with the exporter off, so log lines can be joined without a collector', async () => {
    const { lines, sink } = logSink();
    const logger = createLogger('joined', 'info', sink);
    const tracing = createTracing('joined', tracingConfigSchema.parse({}));
    const incoming = newTraceparent();
    logger.info('before');
    await inSpan(
      tracing.tracer,
      'work',
      { parent: extractTraceContext({ traceparent: incoming.header }) },
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        logger.info('inside, after an await');
      },
    );
    assert.equal(lines[0]?.traceId, undefined);
    assert.equal(lines[1]?.traceId, incoming.traceId);
    assert.notEqual(lines[1]?.spanId, incoming.spanId, 'the line names the new span, not its parent');
  });

  it('keeps the request span in scope when the body arrives in pieces (body parsing waits on socket events)', async () => {
    const { lines, sink } = logSink();
    const tracing = createTracing('slow-body', tracingConfigSchema.parse({}));
    const app = createHttpApp({
      service: 'slow-body',
      logger: createLogger('slow-body', 'info', sink),
      metrics: createServiceMetrics('slow-body'),
      tracer: tracing.tracer,
      bodyLimit: '10kb',
      openapi: {},
      readinessChecks: [],
      routes: (a) => {
        a.post('/slow', (_req, res) => {
          res.locals.log.info('handled');
          res.status(204).end();
        });
      },
    });
    const server = await listen(app, '127.0.0.1', 0);
    try {
      const incoming = newTraceparent();
      const body = JSON.stringify({ pad: 'x'.repeat(2000) });
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/slow`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            traceparent: incoming.header,
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(body.slice(0, 1000));
        setTimeout(() => req.end(body.slice(1000)), 50);
      });
      assert.equal(status, 204);
      assert.equal(lines.find((l) => l.msg === 'handled')?.traceId, incoming.traceId);
    } finally {
      await server.close(1000);
    }
  });

  it('serves a request in a server span under the caller traceparent, and the handler logs its trace id after the body is parsed', async () => {
    const { lines, sink } = logSink();
    const logger = createLogger('http-traced', 'info', sink);
    const tracing = createTracing('http-traced', exporting());
    const app = createHttpApp({
      service: 'http-traced',
      logger,
      metrics: createServiceMetrics('http-traced'),
      tracer: tracing.tracer,
      bodyLimit: '1kb',
      openapi: {},
      readinessChecks: [],
      routes: (a) => {
        a.post('/things/:id', async (req, res) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          res.locals.log.info({ id: req.params.id }, 'handled');
          res.status(201).json(injectTraceContext());
        });
      },
    });
    const server = await listen(app, '127.0.0.1', 0);
    try {
      const incoming = newTraceparent();
      const res = await httpClient(server.url).post('/things/42', {
        body: { name: 'x' },
        headers: { traceparent: incoming.header },
      });
      assert.equal(res.status, 201);
      const handled = lines.find((l) => l.msg === 'handled');
      assert.equal(handled?.traceId, incoming.traceId);
      assert.equal(handled?.requestId, res.headers.get('x-request-id'));
      assert.match(res.body.traceparent, new RegExp(`^00-${incoming.traceId}-`));
    } finally {
      await server.close(1000);
      await tracing.shutdown();
    }
    const span = collector.spans.find((s) => s.service === 'http-traced');
    assert.equal(span?.name, 'POST /things/:id', 'named by route template, not by URL');
    assert.equal(span?.kind, 2);
    assert.equal(span?.attributes['http.response.status_code'], 201);
  });
});
