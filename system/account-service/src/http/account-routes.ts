import {
  type AccessTokenVerifier,
  authenticate,
  NotFoundProblem,
  parseInput,
  requireRole,
} from '@reservex/kit';
import type { Express, RequestHandler } from 'express';
import { BulkSessionsOffError } from '../domain/account-errors.ts';
import type { AccountUseCases } from '../use-cases/accounts.ts';
import type { SigningKeyRing } from '../use-cases/signing-key-ring.ts';
import { bulkSessionsBody, loginBody, logoutBody, refreshBody, signupBody } from './schemas.ts';

/** Routes that exist only when switched on (load-test settings production refuses); off, they answer 404. */
export interface RouteSwitches {
  bulkSessions: boolean;
}

export function accountRoutes(
  useCases: AccountUseCases,
  verify: AccessTokenVerifier,
  keys: SigningKeyRing,
  switches: RouteSwitches,
) {
  // Checked before the token: switched off, the path costs nothing and tells nothing, whoever asks.
  const bulkSessionsOn: RequestHandler = (_req, _res, next) => {
    if (!switches.bulkSessions) throw new BulkSessionsOffError();
    next();
  };
  return (app: Express) => {
    app.post('/api/auth/signup', async (req, res) => {
      const user = await useCases.signup(parseInput(signupBody, req.body), req.ip ?? 'unknown');
      res.status(201).location('/api/users/me').json({ id: user.id, email: user.email, name: user.name });
    });

    app.post('/api/auth/login', async (req, res) => {
      const tokens = await useCases.login(parseInput(loginBody, req.body), req.ip ?? 'unknown');
      res.setHeader('Cache-Control', 'no-store');
      res.json(tokens);
    });

    app.post('/api/auth/refresh', async (req, res) => {
      const { refreshToken } = parseInput(refreshBody, req.body);
      res.setHeader('Cache-Control', 'no-store');
      res.json(await useCases.refresh(refreshToken));
    });

    app.post('/api/auth/logout', authenticate(verify), async (req, res) => {
      const { refreshToken } = parseInput(logoutBody, req.body ?? {});
      await useCases.logout(res.locals.principal.userId, refreshToken);
      res.status(204).end();
    });

    app.get('/api/users/me', authenticate(verify), async (_req, res) => {
      const user = await useCases.me(res.locals.principal.userId);
      if (user === undefined) throw new NotFoundProblem('This account no longer exists');
      res.json(user);
    });

    // Rotation with overlap: the new key signs from now on, the old ones stay in the JWKS until their tokens expire.
    app.post('/api/admin/signing-keys', authenticate(verify), requireRole('admin'), async (_req, res) => {
      const key = await keys.rotate();
      res.status(201).json({ kid: key.kid });
    });

    app.post(
      '/api/admin/sessions',
      bulkSessionsOn,
      authenticate(verify),
      requireRole('admin'),
      async (req, res) => {
        const { userIds } = parseInput(bulkSessionsBody, req.body);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ sessions: await useCases.mintSessions(userIds) });
      },
    );

    app.get('/.well-known/jwks.json', async (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json({ keys: await keys.published() });
    });
  };
}
