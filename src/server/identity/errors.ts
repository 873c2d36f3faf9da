import { DomainError } from '../errors/index.js';

export { InvalidRequestError, NotFoundError } from '../errors/index.js';

/**
 * No credential, or one that is malformed, expired, revoked or forged. Messages stay generic:
 * they never say which part was wrong in a way that helps guessing, and never echo the credential.
 */
export class UnauthorizedError extends DomainError {
  readonly code = 'unauthorized';
}

/** Authenticated, but not allowed to do this. */
export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}

/** The credential is valid but its tenant is suspended. */
export class TenantSuspendedError extends DomainError {
  readonly code = 'tenant_suspended';

  constructor(tenantId: string) {
    super(`tenant ${JSON.stringify(tenantId)} is suspended`, { tenant_id: tenantId });
  }
}

/**
 * The request clashes with the current state: a taken username or tenant id (`conflict`), a
 * tenant that still holds data (`tenant_not_empty`), the last platform admin.
 */
export class ConflictError extends DomainError {
  constructor(
    readonly code: 'conflict' | 'tenant_not_empty',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, details);
  }
}

/**
 * An identity setting cannot be used (a short ALLSOURCE_JWT_SECRET, a malformed
 * ALLSOURCE_BOOTSTRAP_API_KEY, a stale first-run password file). Same code as config's
 * ConfigError, so the CLI reports it the same way; the message never holds the secret itself.
 */
export class IdentityConfigError extends DomainError {
  readonly code = 'config_invalid';
}
