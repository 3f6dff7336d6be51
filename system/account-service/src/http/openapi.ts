import { z } from 'zod';
import { loginBody, logoutBody, refreshBody, signupBody, tokenPairView, userView } from './schemas.ts';

const json = (schema: z.ZodType) => ({
  'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** Built from the same zod schemas that validate requests, so the document cannot drift from the code. */
export function accountOpenApi() {
  return {
    openapi: '3.1.0',
    info: { title: 'ReserveX account-service', version: '1.0.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
          },
        },
      },
    },
    paths: {
      '/api/auth/signup': {
        post: {
          requestBody: { required: true, content: json(signupBody) },
          responses: {
            201: { description: 'Account created', content: json(userView.omit({ roles: true })) },
            400: problem('Invalid input or malformed JSON'),
            409: problem('Email already registered'),
            413: problem('Body too large'),
          },
        },
      },
      '/api/auth/login': {
        post: {
          requestBody: { required: true, content: json(loginBody) },
          responses: {
            200: { description: 'Signed in', content: json(tokenPairView) },
            400: problem('Invalid input'),
            401: problem('Wrong email or password'),
            429: problem('Too many attempts; see Retry-After'),
          },
        },
      },
      '/api/auth/refresh': {
        post: {
          requestBody: { required: true, content: json(refreshBody) },
          responses: {
            200: { description: 'Rotated', content: json(tokenPairView) },
            401: problem('Unknown, expired, revoked or reused refresh token'),
          },
        },
      },
      '/api/auth/logout': {
        post: {
          security: [{ bearer: [] }],
          requestBody: { required: false, content: json(logoutBody) },
          responses: { 204: { description: 'Signed out' }, 401: problem('Not signed in') },
        },
      },
      '/api/users/me': {
        get: {
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'The caller', content: json(userView) },
            401: problem('Not signed in'),
          },
        },
      },
      '/.well-known/jwks.json': {
        get: {
          responses: { 200: { description: 'Public keys that verify access tokens (EdDSA, Ed25519)' } },
        },
      },
      '/actuator/health': {
        get: { responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } } },
      },
      '/metrics': { get: { responses: { 200: { description: 'Prometheus metrics' } } } },
    },
  };
}
