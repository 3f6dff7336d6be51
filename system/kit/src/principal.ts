export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as a verified access token says. */
export interface Principal {
  userId: string;
  email: string;
  roles: Role[];
}
