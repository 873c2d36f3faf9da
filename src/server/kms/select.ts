import { keyFileProtector, environmentProtector, type MasterKeyProtector } from './protectors.js';
import { MasterKeyError } from './master-key.js';
import { passphraseProtector } from './passphrase/index.js';
import { pkcs11Protector } from './pkcs11/index.js';
import { existsSync } from 'node:fs';

/** What `key_protector` can name. Unset means: the passphrase file if it exists, else the key file. */
export type ConfiguredProtector = 'file' | 'env' | 'passphrase' | 'pkcs11';

export interface ProtectorSettings {
  keyProtector?: ConfiguredProtector | undefined;
  keyFile: string;
  passphraseFile: string;
  pkcs11?: { module: string; tokenLabel: string; keyLabel: string; wrappedKeyFile: string } | undefined;
}

/**
 * Picks the protector. ALLSOURCE_MASTER_KEY wins whenever it is set (tests, CI, containers).
 * Otherwise `key_protector`; when that is unset, a passphrase file in place means the key was
 * moved to it by `allsource keys protect --with passphrase`, so it is used; else the key file.
 * The PKCS#11 PIN comes from ALLSOURCE_PKCS11_PIN only, never from a config file or a flag.
 */
export function selectProtector(env: NodeJS.ProcessEnv, settings: string | ProtectorSettings): MasterKeyProtector {
  const s: ProtectorSettings =
    typeof settings === 'string' ? { keyFile: settings, passphraseFile: `${settings}.passphrase.json` } : settings;
  const hex = env['ALLSOURCE_MASTER_KEY'];
  if (hex) return environmentProtector(hex);
  const kind = s.keyProtector ?? (existsSync(s.passphraseFile) ? 'passphrase' : 'file');
  switch (kind) {
    case 'env':
      throw new MasterKeyError('key_protector is env but ALLSOURCE_MASTER_KEY is not set');
    case 'passphrase':
      return passphraseProtector(s.passphraseFile);
    case 'pkcs11': {
      const pin = env['ALLSOURCE_PKCS11_PIN'];
      if (!s.pkcs11) throw new MasterKeyError('key_protector is pkcs11 but the pkcs11_* settings are missing');
      if (!pin) throw new MasterKeyError('key_protector is pkcs11: set the token PIN in ALLSOURCE_PKCS11_PIN');
      return { kind: 'pkcs11', ...pkcs11Protector({ ...s.pkcs11, pin }) };
    }
    case 'file':
      return keyFileProtector(s.keyFile);
  }
}
