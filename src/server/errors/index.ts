/**
 * Base class of every error the domain throws on purpose.
 *
 * Domain code throws these with a stable `code`; the HTTP edge (http/errors.ts) is the
 * only place that turns a code into a status. `details` is safe to show to the caller:
 * never put a secret, a path on disk or a stack in it.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** One problem with one field of a request, located by a JSON pointer. */
export interface FieldProblem {
  path: string;
  problem: string;
}

/** The caller sent something malformed: a bad field, a bad parameter, a bad value. */
export class InvalidRequestError extends DomainError {
  readonly code = 'invalid_request';

  constructor(message: string, problems: FieldProblem[] = [], extra: Record<string, unknown> = {}) {
    super(message, problems.length > 0 ? { details: problems, ...extra } : extra);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}
