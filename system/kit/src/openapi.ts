import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call: anyone, any signed-in user, an admin, or the merchant (payment-service at the provider). */
export type Caller = 'anyone' | 'user' | 'admin' | 'merchant';

export interface ResponseSpec {
  description: string;
  /** The JSON body, from the zod schema the code builds or checks it with. */
  schema?: z.ZodType;
  /** A body that is not JSON (text/event-stream, Prometheus text), described in words and by its media type. */
  mediaType?: string;
  headers?: Record<string, { description: string; schema: object }>;
}

export interface HeaderSpec {
  name: string;
  required: boolean;
  description: string;
  schema: z.ZodType;
}

export interface LinkSpec {
  operationId: string;
  description: string;
  /** Runtime expressions, e.g. `{ id: '$response.body#/id' }`. */
  parameters?: Record<string, string>;
  requestBody?: unknown;
}

/**
 * One operation of a service's HTTP API: what the route validates with, and every status it can answer. The
 * routes parse with the same zod schemas, and a test holds the express router and this list to each other.
 */
export interface OperationSpec {
  method: HttpMethod;
  /** Express style: `/api/events/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  caller: Caller;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: HeaderSpec[];
  body?: z.ZodType;
  /** False for a body the route accepts empty. */
  bodyRequired?: boolean;
  bodyExample?: unknown;
  responses: Record<number, ResponseSpec>;
  links?: Record<number, Record<string, LinkSpec>>;
  /** Answers 429 with Retry-After when the caller goes too fast. */
  rateLimited?: boolean;
  /** False for the few routes that touch no database or Redis, and so never answer 503. */
  mayBeUnavailable?: boolean;
}

export interface ApiInfo {
  title: string;
  version: string;
  description: string;
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details; the `type` URI names the problem, and clients branch on it',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'On 400: every field that failed, by JSON pointer',
      items: {
        type: 'object',
        required: ['pointer', 'detail'],
        properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
      },
    },
    retryAfterSeconds: { type: 'integer', minimum: 1 },
  },
  additionalProperties: true,
};

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 1 },
  },
};

const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

function problem(description: string, headers?: Record<string, { description: string; schema: object }>) {
  return {
    description,
    ...(headers === undefined ? {} : { headers }),
    content: PROBLEM_CONTENT,
  };
}

export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return rest;
}

function parametersOf(where: 'path' | 'query', schema: z.ZodObject | undefined) {
  if (schema === undefined) return [];
  const json = jsonSchemaOf(schema, 'input') as { properties?: Record<string, object>; required?: string[] };
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
  }));
}

function responsesOf(op: OperationSpec) {
  const out: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    const content =
      r.schema !== undefined
        ? { 'application/json': { schema: jsonSchemaOf(r.schema, 'output') } }
        : r.mediaType !== undefined
          ? { [r.mediaType]: { schema: { type: r.mediaType.endsWith('json') ? 'object' : 'string' } } }
          : Number(status) >= 400
            ? PROBLEM_CONTENT
            : undefined;
    const links = op.links?.[Number(status)];
    out[status] = {
      description: r.description,
      ...(r.headers === undefined ? {} : { headers: r.headers }),
      ...(content === undefined ? {} : { content }),
      ...(links === undefined ? {} : { links }),
    };
  }
  // The answers every route of this shape can give, unless the operation describes them itself.
  const common: Record<string, unknown> = {};
  const takesInput =
    op.params !== undefined ||
    op.query !== undefined ||
    op.body !== undefined ||
    (op.headers?.length ?? 0) > 0;
  if (takesInput)
    common[400] = problem(
      'The request failed validation (`validation`, with every field by pointer), or its JSON is malformed',
    );
  if (op.caller !== 'anyone') {
    common[401] = problem('No valid bearer token', {
      'WWW-Authenticate': { description: 'The scheme to authenticate with', schema: { type: 'string' } },
    });
  }
  if (op.caller === 'admin') common[403] = problem('Signed in, but not an admin');
  if (op.body !== undefined) {
    common[413] = problem('The body is larger than the service accepts');
    common[415] = problem('The body is not `application/json`');
  }
  if (op.rateLimited === true) common[429] = problem('Too many requests from this caller', RETRY_AFTER);
  if (op.mayBeUnavailable !== false) {
    common[503] = problem(
      'A database or Redis this request needs is away (`dependency-unavailable`); try again',
      RETRY_AFTER,
    );
  }
  for (const [status, response] of Object.entries(common)) out[status] ??= response;
  return out;
}

const SECURITY: Record<Caller, object[] | undefined> = {
  anyone: [],
  user: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  merchant: [{ merchant: [] }],
};

/** Express's `:id` as OpenAPI's `{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

/** The OpenAPI 3.1 document of a service, from its operations. */
export function openApiDocument(info: ApiInfo, operations: readonly OperationSpec[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = openApiPath(op.path);
    const headers = (op.headers ?? []).map((h) => ({
      name: h.name,
      in: 'header',
      required: h.required,
      description: h.description,
      schema: jsonSchemaOf(h.schema, 'input'),
    }));
    paths[path] ??= {};
    paths[path][op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description === undefined ? {} : { description: op.description }),
      tags: [op.tag],
      security: SECURITY[op.caller],
      parameters: [...parametersOf('path', op.params), ...parametersOf('query', op.query), ...headers],
      ...(op.body === undefined
        ? {}
        : {
            requestBody: {
              required: op.bodyRequired ?? true,
              content: {
                'application/json': {
                  schema: jsonSchemaOf(op.body, 'input'),
                  ...(op.bodyExample === undefined ? {} : { example: op.bodyExample }),
                },
              },
            },
          }),
      responses: responsesOf(op),
    };
  }
  const usesMerchant = operations.some((o) => o.caller === 'merchant');
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        ...(usesMerchant
          ? { merchant: { type: 'http', scheme: 'bearer', description: 'The merchant key' } }
          : {}),
      },
      schemas: { Problem: PROBLEM_SCHEMA },
    },
    paths,
  };
}

/** The routes every service gets from the kit: health, metrics, this document and its rendered reference. */
export const PLATFORM_OPERATIONS: OperationSpec[] = [
  {
    method: 'get',
    path: '/actuator/health/liveness',
    operationId: 'liveness',
    summary: 'The process is up',
    tag: 'platform',
    caller: 'anyone',
    mayBeUnavailable: false,
    responses: { 200: { description: '`{"status":"UP"}`' } },
  },
  ...(['/actuator/health', '/actuator/health/readiness'] as const).map(
    (path, i): OperationSpec => ({
      method: 'get',
      path,
      operationId: i === 0 ? 'health' : 'readiness',
      summary: 'Ready for traffic: every dependency answers, and the service is not draining',
      tag: 'platform',
      caller: 'anyone',
      mayBeUnavailable: false,
      responses: {
        200: { description: 'UP, with each check' },
        503: {
          description: 'DOWN, naming the check that failed, or draining',
          mediaType: 'application/json',
        },
      },
    }),
  ),
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tag: 'platform',
    caller: 'anyone',
    mayBeUnavailable: false,
    responses: { 200: { description: 'Prometheus text exposition', mediaType: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    summary: 'This document',
    tag: 'platform',
    caller: 'anyone',
    mayBeUnavailable: false,
    responses: { 200: { description: 'OpenAPI 3.1', mediaType: 'application/json' } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'apiReference',
    summary: 'This document, rendered for people',
    tag: 'platform',
    caller: 'anyone',
    mayBeUnavailable: false,
    responses: { 200: { description: 'An HTML page', mediaType: 'text/html' } },
  },
];
