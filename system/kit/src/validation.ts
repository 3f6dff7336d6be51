import { z } from 'zod';
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
  // Every field was well formed and only a rule across fields failed (a refinement): the request is
  // understood and refused as it stands, which is 422, apart from malformed input (400).
  const onlyRules = result.error.issues.every((issue) => issue.code === 'custom');
  throw new ValidationProblem(errors, onlyRules ? 422 : 400);
}

/**
 * Free text a person types (a name, a venue): at least one visible character, no NUL (PostgreSQL cannot store
 * it), trimmed. Written as one pattern so that the OpenAPI document says exactly what the service accepts; the
 * class leaves out U+FEFF, which JavaScript counts as a space and other regex engines do not.
 */
export function freeText(maxLength: number) {
  return (
    z
      .string()
      .max(maxLength)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the pattern keeps out
      .regex(/^[^\x00]*[^\s\x00\uFEFF][^\x00]*$/, 'must have a visible character and no NUL')
      .transform((s) => s.trim())
  );
}

/** A string stored or looked up as it is (a token, a login name): no NUL, which PostgreSQL cannot hold. */
export function plainText(minLength: number, maxLength: number) {
  return (
    z
      .string()
      .min(minLength)
      .max(maxLength)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the pattern keeps out
      .regex(/^[^\x00]*$/, 'must not contain NUL')
  );
}

/**
 * An email address: zod's pattern, and the RFC 5321 limits its pattern leaves out (a local part of at most 64
 * characters, domain labels of at most 63 that neither start nor end with a hyphen), which `format: email`
 * includes. A breach is malformed input (400), like any other bad format.
 */
export function emailAddress() {
  return z
    .email()
    .max(254)
    .superRefine((value, ctx) => {
      const at = value.lastIndexOf('@');
      const local = value.slice(0, at);
      const labels = value.slice(at + 1).split('.');
      if (local.length <= 64 && labels.every((l) => l.length <= 63 && !l.startsWith('-') && !l.endsWith('-')))
        return;
      ctx.addIssue({
        code: 'invalid_format',
        format: 'email',
        input: value,
        message:
          'Invalid email address: a local part over 64 characters, or a domain label over 63 or edged with a hyphen',
      });
    });
}
