import { type OperationSpec, openApiDocument, PLATFORM_OPERATIONS } from '@reservex/kit';
import {
  bulkSessionsBody,
  bulkSessionsView,
  loginBody,
  logoutBody,
  refreshBody,
  signupBody,
  tokenPairView,
  userView,
} from './schemas.ts';

const problem = (description: string) => ({ description });

/** Every operation account-service serves: the OpenAPI document is built from this list, and a test holds the routes to it. */
export const ACCOUNT_OPERATIONS: OperationSpec[] = [
  {
    method: 'post',
    path: '/api/auth/signup',
    operationId: 'signUp',
    summary: 'Create an account',
    tag: 'accounts',
    caller: 'anyone',
    body: signupBody,
    bodyExample: { email: 'fan@example.com', password: 'correct horse battery', name: 'Kim Min-ji' },
    rateLimited: true,
    responses: {
      201: { description: 'Created; Location is /api/users/me', schema: userView.omit({ roles: true }) },
      409: problem('The email is already registered'),
    },
    links: {
      201: {
        signIn: {
          operationId: 'signIn',
          description: 'Sign in with the new account',
          requestBody: { email: '$request.body#/email', password: '$request.body#/password' },
        },
      },
    },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    operationId: 'signIn',
    summary: 'Sign in: an access token (JWT, EdDSA) and a refresh token',
    tag: 'accounts',
    caller: 'anyone',
    body: loginBody,
    bodyExample: { email: 'fan@example.com', password: 'correct horse battery' },
    rateLimited: true,
    responses: {
      200: { description: 'Signed in', schema: tokenPairView },
      401: problem('Wrong email or password'),
    },
    links: {
      200: {
        refresh: {
          operationId: 'refreshTokens',
          description: 'Rotate the refresh token',
          requestBody: { refreshToken: '$response.body#/refreshToken' },
        },
      },
    },
  },
  {
    method: 'post',
    path: '/api/auth/refresh',
    operationId: 'refreshTokens',
    summary: 'Rotate a refresh token; using one twice signs out every session it belonged to',
    tag: 'accounts',
    caller: 'anyone',
    body: refreshBody,
    responses: {
      200: { description: 'A new pair', schema: tokenPairView },
      401: problem('Unknown, expired, revoked or reused refresh token'),
    },
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    operationId: 'signOut',
    summary: 'Sign out: revoke the given refresh token, or all of the caller’s',
    tag: 'accounts',
    caller: 'user',
    body: logoutBody,
    bodyRequired: false,
    responses: { 204: { description: 'Signed out' } },
  },
  {
    method: 'get',
    path: '/api/users/me',
    operationId: 'getMe',
    summary: 'The signed-in user',
    tag: 'accounts',
    caller: 'user',
    responses: {
      200: { description: 'The caller', schema: userView },
      404: problem('The account no longer exists'),
    },
  },
  {
    method: 'post',
    path: '/api/admin/signing-keys',
    operationId: 'rotateSigningKey',
    summary: 'Start signing with a new key; the old ones stay in the JWKS until their tokens expire',
    tag: 'admin',
    caller: 'admin',
    responses: { 201: { description: 'The new key id' } },
  },
  {
    method: 'post',
    path: '/api/admin/sessions',
    operationId: 'mintSessions',
    summary: 'Access tokens for many existing accounts at once, without their passwords (load runs only)',
    description:
      'Off unless BULK_SESSIONS_ENABLED=true, which production refuses. Each token is the one a login would give ' +
      '(same signing key, claims, roles and lifetime); no refresh tokens. All or nothing: one unknown id and ' +
      'nothing is minted.',
    tag: 'admin',
    caller: 'admin',
    body: bulkSessionsBody,
    bodyExample: { userIds: ['0b5f3c1e-7d2a-4c8e-9f31-5a6b7c8d9e0f'] },
    responses: {
      200: { description: 'One session per distinct id, in the order asked', schema: bulkSessionsView },
      404: problem('Switched off on this service (`bulk-sessions-off`)'),
      413: problem('More than 500 ids (`too-many-sessions`), or a body over HTTP_BODY_LIMIT'),
      422: problem(
        'Some ids name no account (`unknown-users`, listed in `unknownUserIds`); nothing was minted',
      ),
    },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'getJwks',
    summary: 'The public keys that verify access tokens (EdDSA, Ed25519)',
    tag: 'accounts',
    caller: 'anyone',
    responses: { 200: { description: 'A JSON Web Key Set' } },
  },
];

export function accountOpenApi() {
  return openApiDocument(
    {
      title: 'ReserveX account-service',
      version: '1.0.0',
      description: 'Accounts, sign-in, and the keys that sign access tokens.',
    },
    [...ACCOUNT_OPERATIONS, ...PLATFORM_OPERATIONS],
  );
}
