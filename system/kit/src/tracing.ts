import {
  type Attributes,
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export { type Span, SpanKind, type Tracer };

/** Trace context as it travels: W3C `traceparent` (and `tracestate`) in HTTP headers, Kafka headers and rows. */
export type TraceCarrier = Record<string, string>;

export interface TracingConfig {
  OTEL_TRACES_EXPORTER: 'none' | 'otlp';
  OTEL_EXPORTER_OTLP_ENDPOINT: string;
  OTEL_TRACES_SAMPLER_ARG: number;
  OTEL_BSP_SCHEDULE_DELAY: number;
}

export interface Tracing {
  tracer: Tracer;
  /** Sends what is buffered; called last at shutdown. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
let contextManagerInstalled = false;

/**
 * One tracer per service, not the process-global provider: the tests run all three services in one process,
 * and each must still report under its own service.name.
 *
 * With the exporter off, spans are not recorded, but every span still gets real ids and they still travel
 * through headers and rows, so log lines can be joined by trace id without any collector.
 */
export function createTracing(service: string, config: TracingConfig): Tracing {
  if (!contextManagerInstalled) {
    // Returns false when another copy of the API installed one first, which serves just as well.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerInstalled = true;
  }
  const exporting = config.OTEL_TRACES_EXPORTER === 'otlp';
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    sampler: exporting
      ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG) })
      : new AlwaysOffSampler(),
    spanProcessors: exporting
      ? [
          new BatchSpanProcessor({
            exporter: new OTLPTraceExporter({
              url: `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`,
            }),
            scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
          }),
        ]
      : [],
  });
  return {
    tracer: provider.getTracer(service),
    shutdown: () => provider.shutdown(),
  };
}

/** Writes the active (or given) context into a carrier, for a request, a Kafka message or a table row. */
export function injectTraceContext(
  carrier: TraceCarrier = {},
  from: Context = context.active(),
): TraceCarrier {
  propagator.inject(from, carrier, {
    set: (c, key, value) => {
      c[key] = value;
    },
  });
  return carrier;
}

type Headers = Record<string, string | string[] | undefined> | Map<string, string>;

/** Reads a context from headers (HTTP or Kafka) or a stored carrier; an absent or broken one starts a new trace. */
export function extractTraceContext(carrier: Headers | null | undefined): Context {
  if (carrier === null || carrier === undefined) return ROOT_CONTEXT;
  const get = (key: string): string | undefined => {
    const value = carrier instanceof Map ? carrier.get(key) : carrier[key];
    return Array.isArray(value) ? value[0] : value;
  };
  return propagator.extract(ROOT_CONTEXT, carrier, {
    get: (_c, key) => get(key),
    keys: () => (carrier instanceof Map ? [...carrier.keys()] : Object.keys(carrier)),
  });
}

/** The ids of the span in scope, for log lines; empty outside any span. */
export function activeTraceIds(): { traceId: string; spanId: string } | Record<string, never> {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context when left out. */
  parent?: Context;
}

/**
 * Runs `work` inside a new span that is active for everything it awaits, and ends the span however `work`
 * ends. A throw marks the span as an error and is rethrown unchanged.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  // Chained, not awaited: a span around a long wait (a fan minutes in a queue) keeps no suspended function alive.
  const running = context.with(trace.setSpan(parent, span), () => {
    try {
      return Promise.resolve(work(span));
    } catch (error) {
      return Promise.reject(error);
    }
  });
  return running
    .catch((error: unknown) => {
      span.recordException(error as Error);
      markSpanFailed(span, (error as Error).message);
      throw error;
    })
    .finally(() => span.end());
}

/**
 * Runs `work` with `span` active: for work a shared timer resumes on the span's behalf (a fan back from the queue),
 * so what it sends carries that trace. Only the span is kept in between, not a context and its frames.
 */
export function inSpanContext<T>(span: Span, work: () => T): T {
  return context.with(trace.setSpan(ROOT_CONTEXT, span), work);
}

/** Ends a span that ran by hand, not through inSpan: marked as an error, with the exception, if one ended it. */
export function endSpan(span: Span, error?: Error): void {
  if (error !== undefined) {
    span.recordException(error);
    markSpanFailed(span, error.message);
  }
  span.end();
}

export function markSpanFailed(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
