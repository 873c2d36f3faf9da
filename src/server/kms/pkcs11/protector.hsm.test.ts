import { createRequire } from 'node:module';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PKCS11 } from 'pkcs11js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../errors/index.js';
import { Pkcs11Error } from './errors.js';
import { pkcs11Protector, type Pkcs11ProtectorOptions } from './protector.js';
import { withPkcs11Session } from './session.js';
import { createSoftHsm, type SoftHsm } from './testing/softhsm.js';

const pkcs11js = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');

let hsm: SoftHsm;
let options: Pkcs11ProtectorOptions;
beforeEach(() => {
  hsm = createSoftHsm('protector-test');
  options = {
    module: hsm.module,
    tokenLabel: hsm.tokenLabel,
    pin: hsm.pin,
    keyLabel: 'allsource-master',
    wrappedKeyFile: join(hsm.dir, 'config', 'nested', 'master-key.pkcs11.json'),
  };
});
afterEach(() => hsm.cleanup());

const catchError = (fn: () => unknown): Pkcs11Error => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(Pkcs11Error);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as Error).message).not.toContain('\n');
    return error as Pkcs11Error;
  }
  throw new Error('expected an error');
};

/** A plain pkcs11js session, independent of the code under test, to look into the token. */
function withRawSession<T>(fn: (p: PKCS11, session: Buffer) => T): T {
  const p = new pkcs11js.PKCS11();
  p.load(hsm.module);
  p.C_Initialize();
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === hsm.tokenLabel);
    if (!slot) throw new Error('token not found');
    const session = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p.C_Login(session, pkcs11js.CKU_USER, hsm.pin);
    try {
      return fn(p, session);
    } finally {
      p.C_CloseSession(session);
    }
  } finally {
    p.C_Finalize();
    p.close();
  }
}

function findKeys(p: PKCS11, session: Buffer, label: string): Buffer[] {
  p.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  const found = p.C_FindObjects(session, 10);
  p.C_FindObjectsFinal(session);
  return found;
}

describe('pkcs11Protector', () => {
  it('on first run makes a token key and a 0600 wrapped key file, and loads the same key again', () => {
    const protector = pkcs11Protector(options);
    expect(protector.description).toContain('protector-test');
    expect(protector.description).not.toContain(hsm.pin);
    expect(protector.exists?.()).toBe(false);
    const first = protector.load({ firstRun: true });
    expect(protector.exists?.()).toBe(true);
    expect(first).toHaveLength(32);

    const stat = statSync(options.wrappedKeyFile);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(statSync(join(hsm.dir, 'config', 'nested')).mode & 0o777).toBe(0o700);
    const text = readFileSync(options.wrappedKeyFile, 'utf8');
    const file = JSON.parse(text);
    expect(file).toMatchObject({
      format: 'allsource/pkcs11-wrapped-master-key',
      version: 1,
      mechanism: 'CKM_AES_GCM',
      key_label: 'allsource-master',
    });
    expect(Buffer.from(file.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(file.ciphertext, 'base64')).toHaveLength(48);
    // The file never holds the master key in clear, in any encoding.
    expect(text).not.toContain(first.toString('hex'));
    expect(text).not.toContain(first.toString('base64'));

    withRawSession((p, session) => expect(findKeys(p, session, 'allsource-master')).toHaveLength(1));

    const again = pkcs11Protector(options).load({ firstRun: false });
    expect(again.equals(first)).toBe(true);
    // firstRun with an existing file reuses it; the file is never overwritten.
    expect(pkcs11Protector(options).load({ firstRun: true }).equals(first)).toBe(true);
    expect(readFileSync(options.wrappedKeyFile, 'utf8')).toBe(text);
    withRawSession((p, session) => expect(findKeys(p, session, 'allsource-master')).toHaveLength(1));
  });

  it('makes a token key that is sensitive, never extractable, and whose value cannot be read', () => {
    pkcs11Protector(options).load({ firstRun: true });
    withRawSession((p, session) => {
      const [key] = findKeys(p, session, 'allsource-master');
      if (!key) throw new Error('no key');
      const attributes = p.C_GetAttributeValue(session, key, [
        { type: pkcs11js.CKA_TOKEN },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
        { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
        { type: pkcs11js.CKA_PRIVATE },
      ]);
      expect(attributes.map((a) => (a.value as Buffer)[0])).toEqual([1, 1, 0, 1, 1, 1]);
      expect(() => p.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      );
      // Nor can it be made extractable afterwards.
      expect(() => p.C_SetAttributeValue(session, key, [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }])).toThrow(
        /CKR_/,
      );
    });
    // The wrapper reads the same through C_GetAttributeValue.
    withPkcs11Session(options, (session) => {
      const key = session.findSecretKey('allsource-master');
      if (!key) throw new Error('no key');
      expect(session.keyAttributes(key)).toEqual({
        token: true,
        sensitive: true,
        extractable: false,
        alwaysSensitive: true,
        neverExtractable: true,
        aes: true,
        valueLength: 32,
      });
    });
  });

  it('reports a wrong PIN clearly, without the PIN, and changes nothing', () => {
    pkcs11Protector(options).load({ firstRun: true });
    const before = readFileSync(options.wrappedKeyFile, 'utf8');
    const wrongPin = '86420-wrong';
    const error = catchError(() => pkcs11Protector({ ...options, pin: wrongPin }).load({ firstRun: false }));
    expect(error.reason).toBe('pin_incorrect');
    expect(error.message).toBe('the PKCS#11 PIN was refused');
    for (const text of [error.message, String(error), error.stack ?? '', JSON.stringify(error.details)]) {
      expect(text).not.toContain(wrongPin);
    }
    // A wrong PIN on first run does not create a file either.
    const other = join(hsm.dir, 'other.json');
    expect(
      catchError(() => pkcs11Protector({ ...options, pin: wrongPin, wrappedKeyFile: other }).load({ firstRun: true }))
        .reason,
    ).toBe('pin_incorrect');
    expect(() => statSync(other)).toThrow();
    expect(readFileSync(options.wrappedKeyFile, 'utf8')).toBe(before);
    expect(pkcs11Protector(options).load({ firstRun: false })).toHaveLength(32);
  });

  it('refuses a changed wrapped key file, whatever byte or field changed', () => {
    const key = pkcs11Protector(options).load({ firstRun: true });
    const original = readFileSync(options.wrappedKeyFile, 'utf8');
    const file = JSON.parse(original);
    const flip = (b64: string, i: number) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[i] = (bytes[i] ?? 0) ^ 0x01;
      return bytes.toString('base64');
    };
    const variants = [
      { ...file, ciphertext: flip(file.ciphertext, 0) },
      { ...file, ciphertext: flip(file.ciphertext, 31) },
      { ...file, ciphertext: flip(file.ciphertext, 47) }, // the tag
      { ...file, iv: flip(file.iv, 5) },
    ];
    for (const variant of variants) {
      writeFileSync(options.wrappedKeyFile, JSON.stringify(variant));
      const error = catchError(() => pkcs11Protector(options).load({ firstRun: false }));
      expect(error.reason).toBe('wrapped_key_invalid');
      expect(error.message).toMatch(/does not decrypt under token key "allsource-master": it was changed/);
    }
    for (const damaged of [
      'not json',
      '{}',
      JSON.stringify({ ...file, version: 2 }),
      JSON.stringify({ ...file, mechanism: 'CKM_AES_CBC' }),
      JSON.stringify({ ...file, ciphertext: file.ciphertext.slice(0, -4) }),
      JSON.stringify({ ...file, iv: `${file.iv}\n` }),
    ]) {
      writeFileSync(options.wrappedKeyFile, damaged);
      const error = catchError(() => pkcs11Protector(options).load({ firstRun: false }));
      expect(error.reason).toBe('wrapped_key_invalid');
      expect(error.message).toContain('is damaged');
    }
    writeFileSync(options.wrappedKeyFile, JSON.stringify({ ...file, key_label: 'someone-else' }));
    expect(catchError(() => pkcs11Protector(options).load({ firstRun: false })).message).toContain(
      'was made with token key "someone-else", not "allsource-master"',
    );
    writeFileSync(options.wrappedKeyFile, original);
    expect(pkcs11Protector(options).load({ firstRun: false }).equals(key)).toBe(true);
  });

  it('refuses to make a new key when the database exists but the wrapped key file is missing', () => {
    const error = catchError(() => pkcs11Protector(options).load({ firstRun: false }));
    expect(error.reason).toBe('wrapped_key_missing');
    expect(error.message).toContain('the database exists but its wrapped master key file');
    expect(() => statSync(options.wrappedKeyFile)).toThrow();
    withRawSession((p, session) => expect(findKeys(p, session, 'allsource-master')).toHaveLength(0));
  });

  it('says which token or key is missing, and which module cannot be loaded', () => {
    pkcs11Protector(options).load({ firstRun: true });
    const noToken = catchError(() => pkcs11Protector({ ...options, tokenLabel: 'nope' }).load({ firstRun: false }));
    expect(noToken.reason).toBe('token_not_found');
    expect(noToken.message).toContain('no PKCS#11 token labelled "nope"');

    // Another token with the same PIN has no such key.
    hsm.addToken('second-token');
    const noKey = catchError(() =>
      pkcs11Protector({ ...options, tokenLabel: 'second-token' }).load({ firstRun: false }),
    );
    expect(noKey.reason).toBe('key_missing');
    expect(noKey.message).toContain('has no key labelled "allsource-master"');

    const noModule = catchError(() =>
      pkcs11Protector({ ...options, module: join(hsm.dir, 'missing.so') }).load({ firstRun: false }),
    );
    expect(noModule.reason).toBe('module_unavailable');
  });

  it('refuses an extractable key that someone put in the token under its label', () => {
    withRawSession((p, session) => {
      p.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_LABEL, value: 'allsource-master' },
      ]);
    });
    const error = catchError(() => pkcs11Protector(options).load({ firstRun: true }));
    expect(error.reason).toBe('key_unsafe');
    expect(() => statSync(options.wrappedKeyFile)).toThrow();
  });
});
