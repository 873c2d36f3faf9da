import { DomainError } from '../errors/index.js';

/** The finding is resolved already, or the enforcement step reversed already. */
export class AnomalyConflictError extends DomainError {
  readonly code = 'conflict';
}
