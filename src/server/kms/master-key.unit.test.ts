import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveKey, MasterKeyError, parseMasterKeyHex } from './index.js';

describe('master key', () => {
  const key = parseMasterKeyHex('ab'.repeat(32), 'test');

  it('derives independent, deterministic keys per purpose with HKDF-SHA256', () => {
    const db = deriveKey(key, 'allsource/sqlcipher');
    expect(db).toHaveLength(32);
    expect(deriveKey(key, 'allsource/sqlcipher').equals(db)).toBe(true);
    expect(deriveKey(key, 'allsource/keyring').equals(db)).toBe(false);
    expect(db.equals(key)).toBe(false);
    // RFC 5869 computed by hand (an empty salt is HashLen zero bytes), so any HKDF can derive the same key.
    const prk = createHmac('sha256', Buffer.alloc(32)).update(key).digest();
    const okm = createHmac('sha256', prk)
      .update(Buffer.concat([Buffer.from('allsource/sqlcipher'), Buffer.from([1])]))
      .digest();
    expect(db.equals(okm)).toBe(true);
  });

  it.each(['', 'ab'.repeat(31), 'zz'.repeat(32), 'ab'.repeat(33)])('refuses %j without echoing it', (text) => {
    expect(() => parseMasterKeyHex(text, 'ALLSOURCE_MASTER_KEY')).toThrow(MasterKeyError);
    try {
      parseMasterKeyHex(text, 'ALLSOURCE_MASTER_KEY');
    } catch (error) {
      if (text) expect((error as Error).message).not.toContain(text);
    }
  });
});
