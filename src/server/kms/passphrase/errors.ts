import { DomainError } from '../../errors/index.js';

/** The passphrase does not unwrap the master key. Nothing was changed. */
export class WrongPassphraseError extends DomainError {
  readonly code = 'wrong_passphrase';
  constructor() {
    super('the passphrase is wrong');
  }
}

/** The passphrase protector was asked for the key but nobody gave a passphrase. */
export class PassphraseRequiredError extends DomainError {
  readonly code = 'passphrase_required';
}

/** A new passphrase was refused by the policy. The message never repeats it. */
export class WeakPassphraseError extends DomainError {
  readonly code = 'weak_passphrase';
}
