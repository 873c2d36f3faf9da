import type { Template } from 'pkcs11js';
import { ckrName, Pkcs11Error, toPkcs11Error } from './errors.js';
import { logIn, logOut } from './login.js';
import { acquireModule, type LoadedModule, releaseModule } from './module.js';

/** Which token to use and how to log in to it. The PIN is a secret: it only ever goes to C_Login. */
export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  tokenLabel: string;
  pin: string;
}

/** A handle to an object inside the token (pkcs11js represents handles as Buffers). */
export type ObjectHandle = Buffer;

/** The security attributes of a secret key, read back from the token. */
export interface SecretKeyAttributes {
  token: boolean;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  aes: boolean;
  valueLength: number;
}

const AES_KEY_BYTES = 32;
const GCM_TAG_BYTES = 16;
const GCM_IV_BYTES = 12;

/** C_Decrypt results that mean "these bytes do not authenticate", as opposed to a broken token or session. */
const NOT_AUTHENTIC = new Set([
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  // SoftHSM2 reports a GCM tag mismatch as a general error.
  'CKR_GENERAL_ERROR',
]);

/**
 * A logged-in, read-write session with one token. Always close() it (or use withPkcs11Session):
 * closing releases the shared module, and the last release finalises the library.
 *
 * Every method is synchronous: an operation's Init and its single-part call run without another
 * JavaScript caller interleaving on the same session.
 */
export class Pkcs11Session {
  readonly tokenLabel: string;
  private module: LoadedModule | undefined;
  private handle: Buffer | undefined;
  private readonly slotKey: string;

  private constructor(module: LoadedModule, handle: Buffer, tokenLabel: string, slotKey: string) {
    this.module = module;
    this.handle = handle;
    this.tokenLabel = tokenLabel;
    this.slotKey = slotKey;
  }

  /**
   * Loads the module, finds the token by label, opens a session and logs in as the user.
   *
   * @example
   * const session = Pkcs11Session.open({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'allsource', pin });
   * try { session.findSecretKey('allsource-master'); } finally { session.close(); }
   */
  static open(options: Pkcs11TokenOptions): Pkcs11Session {
    const module = acquireModule(options.module);
    let handle: Buffer | undefined;
    try {
      const { pkcs11, lib } = module;
      const slot = findTokenSlot(module, options.tokenLabel);
      handle = call(() => pkcs11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION), 'opening a session');
      const slotKey = slot.toString('hex');
      logIn(module, slotKey, handle, options.pin);
      return new Pkcs11Session(module, handle, options.tokenLabel, slotKey);
    } catch (error) {
      if (handle !== undefined) quietly(() => module.pkcs11.C_CloseSession(handle as Buffer));
      releaseModule(module);
      throw toPkcs11Error(error, 'opening the token');
    }
  }

  /** Every secret key with this label (normally none or one). */
  findSecretKeys(label: string): ObjectHandle[] {
    const { pkcs11, lib } = this.live();
    const session = this.sessionHandle();
    return call(() => {
      pkcs11.C_FindObjectsInit(session, [
        { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
        { type: lib.CKA_LABEL, value: label },
      ]);
      try {
        const found: ObjectHandle[] = [];
        for (;;) {
          const batch = pkcs11.C_FindObjects(session, 16);
          if (batch.length === 0) return found;
          found.push(...batch);
        }
      } finally {
        pkcs11.C_FindObjectsFinal(session);
      }
    }, 'searching the token');
  }

  /** The one secret key with this label, or undefined; two keys with one label is an error (which would we trust?). */
  findSecretKey(label: string): ObjectHandle | undefined {
    const found = this.findSecretKeys(label);
    if (found.length > 1) {
      throw new Pkcs11Error(
        'key_ambiguous',
        `the PKCS#11 token "${this.tokenLabel}" has several keys labelled "${label}"`,
      );
    }
    return found[0];
  }

  /**
   * Generates a persistent AES-256 key inside the token that can encrypt and decrypt but never
   * leave it: sensitive, not extractable, not modifiable, private (needs login to use).
   */
  generateAesKey(label: string): ObjectHandle {
    const { pkcs11, lib } = this.live();
    const template: Template = [
      { type: lib.CKA_CLASS, value: lib.CKO_SECRET_KEY },
      { type: lib.CKA_KEY_TYPE, value: lib.CKK_AES },
      { type: lib.CKA_VALUE_LEN, value: AES_KEY_BYTES },
      { type: lib.CKA_LABEL, value: label },
      { type: lib.CKA_TOKEN, value: true },
      { type: lib.CKA_PRIVATE, value: true },
      { type: lib.CKA_SENSITIVE, value: true },
      { type: lib.CKA_EXTRACTABLE, value: false },
      { type: lib.CKA_MODIFIABLE, value: false },
      { type: lib.CKA_ENCRYPT, value: true },
      { type: lib.CKA_DECRYPT, value: true },
      { type: lib.CKA_WRAP, value: false },
      { type: lib.CKA_UNWRAP, value: false },
    ];
    return call(
      () => pkcs11.C_GenerateKey(this.sessionHandle(), { mechanism: lib.CKM_AES_KEY_GEN }, template),
      'generating a key',
    );
  }

  /** Reads a secret key's security attributes with C_GetAttributeValue. */
  keyAttributes(key: ObjectHandle): SecretKeyAttributes {
    const { pkcs11, lib } = this.live();
    const types = [
      lib.CKA_TOKEN,
      lib.CKA_SENSITIVE,
      lib.CKA_EXTRACTABLE,
      lib.CKA_ALWAYS_SENSITIVE,
      lib.CKA_NEVER_EXTRACTABLE,
      lib.CKA_KEY_TYPE,
      lib.CKA_VALUE_LEN,
    ];
    const values = call(
      () =>
        pkcs11.C_GetAttributeValue(
          this.sessionHandle(),
          key,
          types.map((type) => ({ type })),
        ),
      'reading key attributes',
    );
    const raw = (type: number): Buffer => {
      const value = values.find((attribute) => attribute.type === type)?.value;
      return Buffer.isBuffer(value) ? value : Buffer.alloc(0);
    };
    // CK_BBOOL is one byte; CK_ULONG is native-endian and as wide as a pointer.
    const bool = (type: number) => raw(type)[0] === 1;
    const ulong = (type: number) => {
      const bytes = raw(type);
      return bytes.length >= 4 ? Number(bytes.length >= 8 ? bytes.readBigUInt64LE() : bytes.readUInt32LE()) : -1;
    };
    return {
      token: bool(lib.CKA_TOKEN),
      sensitive: bool(lib.CKA_SENSITIVE),
      extractable: bool(lib.CKA_EXTRACTABLE),
      alwaysSensitive: bool(lib.CKA_ALWAYS_SENSITIVE),
      neverExtractable: bool(lib.CKA_NEVER_EXTRACTABLE),
      aes: ulong(lib.CKA_KEY_TYPE) === lib.CKK_AES,
      valueLength: ulong(lib.CKA_VALUE_LEN),
    };
  }

  /**
   * Refuses a key that could leave the token or is not AES-256: a key someone made by hand under
   * our label must not silently weaken the protection.
   */
  assertKeyIsProtected(key: ObjectHandle, label: string): void {
    const a = this.keyAttributes(key);
    if (!a.aes || a.valueLength !== AES_KEY_BYTES || !a.sensitive || a.extractable || !a.token) {
      throw new Pkcs11Error(
        'key_unsafe',
        `the key labelled "${label}" in PKCS#11 token "${this.tokenLabel}" must be a sensitive, non-extractable AES-256 token key`,
      );
    }
  }

  /** AES-256-GCM inside the token: returns ciphertext ‖ 16-byte tag. `iv` must be 12 fresh random bytes. */
  encryptAesGcm(key: ObjectHandle, iv: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
    const { pkcs11, lib } = this.live();
    const session = this.sessionHandle();
    return call(() => {
      pkcs11.C_EncryptInit(session, gcm(lib, iv, aad), key);
      return Buffer.from(pkcs11.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + GCM_TAG_BYTES)));
    }, 'encrypting');
  }

  /**
   * AES-256-GCM decryption inside the token, or undefined when the bytes do not authenticate
   * (changed, or made under another key or associated data). The caller zeroes the result.
   */
  decryptAesGcm(key: ObjectHandle, iv: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined {
    if (iv.length !== GCM_IV_BYTES || sealed.length < GCM_TAG_BYTES) return undefined;
    const { pkcs11, lib } = this.live();
    const session = this.sessionHandle();
    const out = Buffer.alloc(sealed.length);
    try {
      pkcs11.C_DecryptInit(session, gcm(lib, iv, aad), key);
      return Buffer.from(pkcs11.C_Decrypt(session, sealed, out));
    } catch (error) {
      const ckr = ckrName(error);
      if (ckr !== undefined && NOT_AUTHENTIC.has(ckr)) return undefined;
      throw toPkcs11Error(error, 'decrypting');
    } finally {
      out.fill(0);
    }
  }

  /** Closes the session and releases the module. Idempotent. */
  close(): void {
    const module = this.module;
    const handle = this.handle;
    this.module = undefined;
    this.handle = undefined;
    if (module === undefined) return;
    // No C_Logout: login state is shared by every session of the process on this token, and
    // closing the application's last session on it logs out by itself.
    if (handle !== undefined) quietly(() => module.pkcs11.C_CloseSession(handle));
    logOut(module, this.slotKey);
    releaseModule(module);
  }

  private live(): LoadedModule {
    if (this.module === undefined) throw new Pkcs11Error('session_closed', 'the PKCS#11 session is closed');
    return this.module;
  }

  private sessionHandle(): Buffer {
    if (this.handle === undefined) throw new Pkcs11Error('session_closed', 'the PKCS#11 session is closed');
    return this.handle;
  }
}

/**
 * Runs `fn` in a logged-in session and always closes it, also when `fn` throws.
 *
 * @example
 * const key = withPkcs11Session(options, (session) => session.findSecretKey('allsource-master'));
 */
export function withPkcs11Session<T>(options: Pkcs11TokenOptions, fn: (session: Pkcs11Session) => T): T {
  const session = Pkcs11Session.open(options);
  try {
    return fn(session);
  } finally {
    session.close();
  }
}

function findTokenSlot(module: LoadedModule, tokenLabel: string): Buffer {
  const { pkcs11 } = module;
  const slots = call(() => pkcs11.C_GetSlotList(true), 'listing tokens');
  // Token labels are 32 bytes padded with spaces.
  const matching = slots.filter(
    (slot) => call(() => pkcs11.C_GetTokenInfo(slot), 'reading token information').label.trimEnd() === tokenLabel,
  );
  if (matching.length > 1) {
    throw new Pkcs11Error('token_ambiguous', `several PKCS#11 tokens are labelled "${tokenLabel}" in ${module.path}`);
  }
  const slot = matching[0];
  if (slot === undefined) {
    throw new Pkcs11Error('token_not_found', `no PKCS#11 token labelled "${tokenLabel}" in ${module.path}`);
  }
  return slot;
}

function gcm(lib: LoadedModule['lib'], iv: Buffer, aad: Buffer) {
  return {
    mechanism: lib.CKM_AES_GCM,
    parameter: { type: lib.CK_PARAMS_AES_GCM, iv, aad, ivBits: GCM_IV_BYTES * 8, tagBits: GCM_TAG_BYTES * 8 },
  };
}

/** Runs a PKCS#11 call, turning a native failure into a one-line Pkcs11Error. */
function call<T>(fn: () => T, doing: string): T {
  try {
    return fn();
  } catch (error) {
    throw toPkcs11Error(error, doing);
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanup after another failure or at close: the original outcome matters more.
  }
}
