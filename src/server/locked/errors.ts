import { DomainError } from '../errors/index.js';

/** The store is locked: its master key is protected by a passphrase that nobody has given yet. */
export class LockedError extends DomainError {
  readonly code = 'locked';
  constructor(
    message = 'the store is locked: unlock it with POST /api/v1/unlock {"passphrase": ...}, or restart it with ALLSOURCE_PASSPHRASE',
  ) {
    super(message);
  }
}

export class AlreadyUnlockedError extends DomainError {
  readonly code = 'already_unlocked';
  constructor() {
    super('the store is already unlocked');
  }
}

/** Too many unlock attempts are waiting; the caller should retry later. */
export class UnlockRateLimitedError extends DomainError {
  readonly code = 'rate_limited';
}
