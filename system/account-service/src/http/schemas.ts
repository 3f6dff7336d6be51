import { z } from 'zod';

export const signupBody = z.strictObject({
  email: z.string().trim().pipe(z.email().max(254)),
  password: z.string().min(8, 'must be at least 8 characters').max(128),
  name: z.string().trim().min(1).max(100),
});

export const loginBody = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(128),
});

export const refreshBody = z.strictObject({
  refreshToken: z.string().min(1).max(512),
});

export const logoutBody = z.strictObject({
  refreshToken: z.string().min(1).max(512).optional(),
});

export const userView = z.object({
  id: z.uuid(),
  email: z.email(),
  name: z.string(),
  roles: z.array(z.enum(['user', 'admin'])),
});

export const tokenPairView = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
