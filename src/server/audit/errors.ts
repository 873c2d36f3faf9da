import { DomainError } from '../errors/index.js';

/**
 * An audit record could not be written, so the action it records did not happen either (fail
 * closed). The cause is logged by the caller, never sent: it may name tables or paths.
 */
export class AuditUnavailableError extends DomainError {
  readonly code = 'audit_unavailable';
  constructor(cause?: unknown) {
    super('the audit trail cannot be written, so this request was not carried out');
    this.cause = cause;
  }
}
