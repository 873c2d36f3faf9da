import { createKeyringHarness, type KeyringHarness } from '../../keyring/testing/harness.js';
import { createKmsManager } from '../kms-manager.js';
import type { KmsManager } from '../types.js';
import type { KmsFixture } from './contract.js';

/** Test support: local-provider managers over a real encrypted keyring, for tenants acme and globex. */
export interface LocalKmsFixture extends KmsFixture {
  harness: KeyringHarness;
  close(): Promise<void>;
}

export function createLocalKmsFixture(): LocalKmsFixture {
  const harness = createKeyringHarness();
  const managers: KmsManager[] = [];
  const open = (tenantId: string) => {
    const kms = createKmsManager({ provider: 'local', keyring: harness.keyring, tenantId });
    managers.push(kms);
    return kms;
  };
  const fx: LocalKmsFixture = {
    harness,
    kms: open('acme'),
    foreign: open('globex'),
    async reopen() {
      await fx.kms.close();
      harness.reopen();
      fx.kms = open('acme');
      return fx.kms;
    },
    async close() {
      for (const kms of managers) await kms.close();
      harness.close();
    },
  };
  return fx;
}
