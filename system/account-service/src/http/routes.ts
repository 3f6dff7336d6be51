import {
  type AccessTokenVerifier,
  authenticate,
  NotFoundProblem,
  type Pool,
  parseInput,
} from '@reservex/kit';
import type { Express } from 'express';
import type { AccountUseCases } from '../accounts.ts';
import { publishedKeys } from '../store/signing-keys.ts';
import { loginBody, logoutBody, refreshBody, signupBody } from './schemas.ts';

export function accountRoutes(useCases: AccountUseCases, verify: AccessTokenVerifier, pool: Pool) {
  return (app: Express) => {
    app.post('/api/auth/signup', async (req, res) => {
      const user = await useCases.signup(parseInput(signupBody, req.body));
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

    app.get('/.well-known/jwks.json', async (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json({ keys: await publishedKeys(pool) });
    });
  };
}
