import { emailAddress, freeText, plainText } from '@reservex/kit';
import { z } from 'zod';

export const signupBody = z.strictObject({
  // Surrounding spaces are forgiven, but the document states the address itself.
  email: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), emailAddress()),
  password: z.string().min(8, 'must be at least 8 characters').max(128),
  name: freeText(100),
});

export const loginBody = z.strictObject({
  email: plainText(1, 254),
  password: z.string().min(1).max(128),
});

export const refreshBody = z.strictObject({
  refreshToken: plainText(1, 512),
});

export const logoutBody = z.strictObject({
  refreshToken: plainText(1, 512).optional(),
});

export const bulkSessionsBody = z.strictObject({
  // The most per request is a rule answered with 413 (too-many-sessions), not a validation failure.
  userIds: z
    .array(z.uuid())
    .min(1)
    .describe('Existing accounts, by id: at most 500; duplicates get one session'),
});

export const bulkSessionsView = z.object({
  sessions: z.array(
    z.object({
      userId: z.uuid(),
      accessToken: z.string(),
      expiresIn: z.number().int(),
    }),
  ),
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
