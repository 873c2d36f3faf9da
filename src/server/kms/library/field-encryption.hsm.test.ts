import { afterEach, beforeEach, describe, it } from 'vitest';
import { fieldEncryptionContract } from './testing/contract.js';
import { createPkcs11KmsFixture, type Pkcs11KmsFixture } from './testing/pkcs11.js';

let fx: Pkcs11KmsFixture;
beforeEach(() => {
  fx = createPkcs11KmsFixture();
});
afterEach(() => fx.close());

describe('FieldEncryption (pkcs11 provider, SoftHSM2)', () => {
  for (const [name, check] of Object.entries(fieldEncryptionContract)) it(name, () => check(fx));
});
