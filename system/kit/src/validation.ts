import type { z } from 'zod';
import { type FieldProblem, ValidationProblem } from './problem.ts';

function pointer(path: readonly PropertyKey[]): string {
  return `/${path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

/** Parses untrusted input at the boundary; on failure every problem is reported with a JSON pointer. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors: FieldProblem[] = result.error.issues.map((issue) => ({
    pointer: issue.path.length === 0 ? '/' : pointer(issue.path),
    detail: issue.message,
  }));
  throw new ValidationProblem(errors);
}
