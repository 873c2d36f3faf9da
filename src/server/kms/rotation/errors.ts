import { DomainError } from '../../errors/index.js';

/** The protector in use cannot take a new master key (the environment, or one without a pending slot). */
export class RotationUnsupportedError extends DomainError {
  readonly code = 'rotation_unsupported';
}

/** The rotation stopped before the new database replaced the old one; nothing changed. */
export class RotationFailedError extends DomainError {
  readonly code = 'rotation_failed';
}
