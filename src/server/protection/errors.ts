import { DomainError } from '../errors/index.js';

/** The request's Host names no address of this server (DNS rebinding, or a misdirected request). */
export class HostNotAllowedError extends DomainError {
  readonly code = 'host_not_allowed';
}

/** The client address is refused by the IP filter. The details name the step, never the rule list. */
export class IpBlockedError extends DomainError {
  readonly code = 'ip_blocked';
}

/** A state-changing request from a page of another origin (CSRF), or a preflight from one. */
export class OriginNotAllowedError extends DomainError {
  readonly code = 'origin_not_allowed';
}

/** A token bucket is empty; `retry_after` (seconds) is also sent as Retry-After. */
export class RateLimitedError extends DomainError {
  readonly code = 'rate_limited';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { retry_after: retryAfterSeconds });
  }
}

/** A state-changing request whose body type is not JSON. */
export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'unsupported_media_type';
}

/** An IP rule that already exists (same scope, tenant, list and network). */
export class IpRuleConflictError extends DomainError {
  readonly code = 'conflict';
}

/** The TLS certificate or key named by the config cannot be read. */
export class TlsConfigError extends DomainError {
  readonly code = 'config_invalid';
}
