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
