import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Pkcs11Error } from '../pkcs11/errors.js';
import { pkcs11Protector } from '../pkcs11/protector.js';
import { withPkcs11Session } from '../pkcs11/session.js';
import { KmsClosedError } from './errors.js';
import { createKmsManager } from './kms-manager.js';
import { kmsContract, rejectsWith } from './testing/contract.js';
import { createPkcs11KmsFixture, type Pkcs11KmsFixture } from './testing/pkcs11.js';

let fx: Pkcs11KmsFixture;
beforeEach(() => {
  fx = createPkcs11KmsFixture();
});
afterEach(() => fx.close());

describe('KmsManager (pkcs11 provider, SoftHSM2)', () => {
  for (const [name, check] of Object.entries(kmsContract)) it(name, () => check(fx));

  it('keeps every key version in the token as a sensitive, non-extractable AES-256 key', async () => {
    expect(await fx.kms.createKey('orders')).toEqual({
      keyId: 'orders',
      version: 1,
      provider: 'pkcs11',
      purpose: 'encryption',
      algorithm: 'aes-256-gcm',
    });
    expect((await fx.kms.rotateKey('orders')).version).toBe(2);
    const envelope = await fx.kms.envelopeEncrypt('orders', Buffer.from('x'));
    // base64 of iv ‖ wrapped 32-byte data key ‖ tag.
    expect(Buffer.from(envelope.wrappedDataKey, 'base64')).toHaveLength(12 + 32 + 16);
    withPkcs11Session(fx.config, (session) => {
      for (const label of ['orders/v1', 'orders/v2']) {
        const key = session.findSecretKey(label);
        if (!key) throw new Error(`no ${label}`);
        expect(session.keyAttributes(key)).toEqual({
          token: true,
          sensitive: true,
          extractable: false,
          alwaysSensitive: true,
          neverExtractable: true,
          aes: true,
          valueLength: 32,
        });
      }
      expect(session.findSecretKey('orders/v3')).toBeUndefined();
    });
  });

  it('fails to open with a wrong PIN or an unknown token, clearly and without the PIN', async () => {
    const wrongPin = '97531-wrong';
    const openWrong = async () => {
      try {
        await createKmsManager({ ...fx.config, pin: wrongPin }).close();
      } catch (error) {
        return error;
      }
      throw new Error('a wrong PIN was accepted');
    };
    // fx.kms is logged in to this token already: the token itself would not check the PIN now.
    const whileLoggedIn = await openWrong();
    // With every session closed nothing is logged in, and the token itself refuses the PIN.
    await fx.kms.close();
    await fx.foreign.close();
    const byTheToken = await openWrong();
    for (const error of [whileLoggedIn, byTheToken]) {
      expect(error).toBeInstanceOf(Pkcs11Error);
      expect((error as Pkcs11Error).reason).toBe('pin_incorrect');
      expect((error as Error).message).toBe('the PKCS#11 PIN was refused');
      expect(String(error)).not.toContain(wrongPin);
      expect((error as Error).stack).not.toContain(wrongPin);
    }
    expect(() => createKmsManager({ ...fx.config, tokenLabel: 'absent' })).toThrow(
      /no PKCS#11 token labelled "absent"/,
    );
    // The right PIN still works after the refusals.
    await createKmsManager(fx.config).close();
  });

  it('shares the loaded module: closing one manager leaves others, and the protector, working', async () => {
    await fx.kms.createKey('orders');
    const second = createKmsManager(fx.config);
    try {
      const envelope = await second.envelopeEncrypt('orders', Buffer.from('shared'));
      // The master-key protector runs its own session meanwhile, and closing it does not log us out.
      const protector = pkcs11Protector({
        ...fx.config,
        keyLabel: 'allsource-master',
        wrappedKeyFile: join(fx.hsm.dir, 'master.json'),
      });
      const masterKey = protector.load({ firstRun: true });
      expect(protector.load({ firstRun: false }).equals(masterKey)).toBe(true);
      await fx.kms.close();
      expect(Buffer.from(await second.envelopeDecrypt(envelope)).toString()).toBe('shared');
    } finally {
      await second.close();
    }
    await rejectsWith(fx.kms.envelopeEncrypt('orders', Buffer.from('x')), KmsClosedError);
  });
});
