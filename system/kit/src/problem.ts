// RFC 9457 problem details, produced in one place for every service.
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://reservex.dev/problems/';

/**
 * A failure the client can act on. Domain errors extend this, so the HTTP edge maps them without a lookup table
 * that drifts from the code that throws them.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title);
    this.name = new.target.name;
    this.status = status;
    this.type = `${TYPE_BASE}${slug}`;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toBody(instance?: string): ProblemBody {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance === undefined ? {} : { instance }),
      ...this.extensions,
    };
  }
}

export interface FieldProblem {
  pointer: string;
  detail: string;
}

export class ValidationProblem extends ProblemError {
  constructor(errors: FieldProblem[], status: 400 | 422 = 400) {
    super(
      status,
      status === 400 ? 'validation' : 'rule-violated',
      status === 400 ? 'Request validation failed' : 'Request breaks a rule',
      errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '),
      {
        extensions: { errors },
      },
    );
  }
}

export class UnauthorizedProblem extends ProblemError {
  constructor(detail = 'A valid bearer token is required', slug = 'unauthorized') {
    super(401, slug, 'Unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer' } });
  }
}

export class ForbiddenProblem extends ProblemError {
  constructor(detail = 'You are not allowed to do this', slug = 'forbidden') {
    super(403, slug, 'Forbidden', detail);
  }
}

export class NotFoundProblem extends ProblemError {
  constructor(detail = 'No such resource') {
    super(404, 'not-found', 'Not Found', detail);
  }
}

export class TooManyRequestsProblem extends ProblemError {
  constructor(retryAfterSeconds: number, detail = 'Too many requests') {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'rate-limited', 'Too Many Requests', detail, {
      headers: { 'Retry-After': String(seconds) },
      extensions: { retryAfterSeconds: seconds },
    });
  }
}

/** The service cannot take this request right now (a dependency is away, or it is shedding load): retry later. */
export class ServiceUnavailableProblem extends ProblemError {
  constructor(
    retryAfterSeconds: number,
    detail = 'The service is busy; try again shortly',
    slug = 'unavailable',
  ) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(503, slug, 'Service Unavailable', detail, {
      headers: { 'Retry-After': String(seconds) },
      extensions: { retryAfterSeconds: seconds },
    });
  }
}
