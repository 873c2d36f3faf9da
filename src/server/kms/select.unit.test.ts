import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MasterKeyError } from './master-key.js';
import { selectProtector, type ProtectorSettings } from './select.js';

function settings(extra: Partial<ProtectorSettings> = {}): ProtectorSettings {
  const dir = mkdtempSync(join(tmpdir(), 'allsource-select-'));
  return { keyFile: join(dir, 'master.key'), passphraseFile: join(dir, 'master-key.passphrase.json'), ...extra };
}

const pkcs11 = {
  module: '/usr/lib/softhsm/libsofthsm2.so',
  tokenLabel: 't',
  keyLabel: 'k',
  wrappedKeyFile: '/cfg/w.json',
};

describe('selectProtector', () => {
  it('ALLSOURCE_MASTER_KEY wins over any key_protector', () => {
    for (const keyProtector of [undefined, 'file', 'passphrase', 'pkcs11'] as const) {
      expect(selectProtector({ ALLSOURCE_MASTER_KEY: 'ab'.repeat(32) }, settings({ keyProtector })).kind).toBe('env');
    }
  });

  it('unset: the passphrase file when it exists, else the key file', () => {
    const s = settings();
    expect(selectProtector({}, s).kind).toBe('file');
    writeFileSync(s.passphraseFile, '{}');
    expect(selectProtector({}, s).kind).toBe('passphrase');
    expect(selectProtector({}, { ...s, keyProtector: 'file' }).kind).toBe('file');
  });

  it('pkcs11 takes its PIN from ALLSOURCE_PKCS11_PIN only, and refuses without it', () => {
    expect(() => selectProtector({}, settings({ keyProtector: 'pkcs11', pkcs11 }))).toThrow(/ALLSOURCE_PKCS11_PIN/);
    const protector = selectProtector({ ALLSOURCE_PKCS11_PIN: '1234' }, settings({ keyProtector: 'pkcs11', pkcs11 }));
    expect(protector.kind).toBe('pkcs11');
    expect(protector.description).not.toContain('1234');
  });

  it('env without ALLSOURCE_MASTER_KEY is refused', () => {
    expect(() => selectProtector({}, settings({ keyProtector: 'env' }))).toThrow(MasterKeyError);
  });
});
