import { ProblemError, UnauthorizedProblem } from '@reservex/kit';

export class EmailTakenError extends ProblemError {
  constructor() {
    super(409, 'email-taken', 'Email already registered', 'An account with this email already exists');
  }
}

export class InvalidCredentialsError extends UnauthorizedProblem {
  constructor() {
    super('Email or password is wrong', 'invalid-credentials');
  }
}

export class InvalidRefreshTokenError extends UnauthorizedProblem {
  constructor(detail: string, slug = 'invalid-refresh-token') {
    super(detail, slug);
  }
}

export class RefreshTokenReusedError extends InvalidRefreshTokenError {
  constructor() {
    super(
      'This refresh token was already used; every session it belonged to is now signed out',
      'refresh-token-reused',
    );
  }
}

/** The bulk path is switched off (BULK_SESSIONS_ENABLED): to a caller, it is as if it did not exist. */
export class BulkSessionsOffError extends ProblemError {
  constructor() {
    super(
      404,
      'bulk-sessions-off',
      'Not Found',
      'Minting sessions in bulk is switched off on this service (BULK_SESSIONS_ENABLED)',
    );
  }
}

export class TooManySessionsError extends ProblemError {
  constructor(asked: number, most: number) {
    super(
      413,
      'too-many-sessions',
      'Too many sessions in one request',
      `${asked} user ids asked for; at most ${most} in one request`,
      { extensions: { maxUserIds: most } },
    );
  }
}

/** Nothing is minted when any id names no account: a caller that seeded the accounts has a bug to see. */
export class UnknownUsersError extends ProblemError {
  constructor(unknownUserIds: string[]) {
    const shown = unknownUserIds.slice(0, 5).join(', ');
    const more = unknownUserIds.length > 5 ? ` and ${unknownUserIds.length - 5} more` : '';
    super(
      422,
      'unknown-users',
      'Unknown users',
      `No account has the id ${shown}${more}; nothing was minted`,
      {
        extensions: { unknownUserIds },
      },
    );
  }
}
