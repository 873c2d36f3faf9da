import { createSoftHsm, type SoftHsm } from '../../pkcs11/testing/softhsm.js';
import { createKmsManager } from '../kms-manager.js';
import type { KmsManager, Pkcs11KmsConfig } from '../types.js';
import type { KmsFixture } from './contract.js';

/** Test support: pkcs11-provider managers over two throwaway SoftHSM2 tokens with the same PIN. */
export interface Pkcs11KmsFixture extends KmsFixture {
  hsm: SoftHsm;
  config: Pkcs11KmsConfig;
  close(): Promise<void>;
}

export const FOREIGN_TOKEN = 'kms-foreign';

export function createPkcs11KmsFixture(): Pkcs11KmsFixture {
  const hsm = createSoftHsm('kms-main');
  // Before any session: SoftHSM2 lists the tokens it found at C_Initialize.
  hsm.addToken(FOREIGN_TOKEN);
  const config: Pkcs11KmsConfig = { provider: 'pkcs11', module: hsm.module, tokenLabel: hsm.tokenLabel, pin: hsm.pin };
  const managers: KmsManager[] = [];
  const open = (tokenLabel: string) => {
    const kms = createKmsManager({ ...config, tokenLabel });
    managers.push(kms);
    return kms;
  };
  const closeAll = async () => {
    for (const kms of managers.splice(0)) await kms.close();
  };
  const fx: Pkcs11KmsFixture = {
    hsm,
    config,
    kms: open(hsm.tokenLabel),
    foreign: open(FOREIGN_TOKEN),
    async reopen() {
      // Closing every manager finalises the library: the new ones start from a fresh C_Initialize.
      await closeAll();
      fx.kms = open(hsm.tokenLabel);
      fx.foreign = open(FOREIGN_TOKEN);
      return fx.kms;
    },
    async close() {
      await closeAll();
      hsm.cleanup();
    },
  };
  return fx;
}
