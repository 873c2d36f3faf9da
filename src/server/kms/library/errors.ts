import { DomainError } from '../../errors/index.js';

export { InvalidCiphertextError, KeyConflictError } from '../keyring/index.js';
export { InvalidRequestError, NotFoundError } from '../../errors/index.js';

/** The KmsManager was closed; make a new one. */
export class KmsClosedError extends DomainError {
  readonly code = 'kms_closed';

  constructor() {
    super('the KMS manager is closed');
  }
}
