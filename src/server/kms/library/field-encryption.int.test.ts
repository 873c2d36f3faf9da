import { afterEach, beforeEach, describe, it } from 'vitest';
import { fieldEncryptionContract } from './testing/contract.js';
import { createLocalKmsFixture, type LocalKmsFixture } from './testing/local.js';

let fx: LocalKmsFixture;
beforeEach(() => {
  fx = createLocalKmsFixture();
});
afterEach(() => fx.close());

describe('FieldEncryption (local provider, real keyring)', () => {
  for (const [name, check] of Object.entries(fieldEncryptionContract)) it(name, () => check(fx));
});
