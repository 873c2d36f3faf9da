import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../db/index.js';
import { DomainError, InvalidRequestError, NotFoundError } from '../../errors/index.js';
import {
  InvalidCiphertextError,
  KeyConflictError,
  KeyDestroyedError,
  KeyDisabledError,
  KeyMaterialCorruptError,
  KeyVersionDisabledError,
} from './errors.js';
import { createKeyringHarness, type KeyringHarness } from './testing/harness.js';

let h: KeyringHarness;
beforeEach(() => {
  h = createKeyringHarness();
});
afterEach(() => h.close());

const catchError = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected an error');
};

const flipChar = (text: string, i: number) =>
  text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 0x01) + text.slice(i + 1);

describe('keyring keys', () => {
  it('are created with version 1 and show metadata only', () => {
    const key = h.keyring.createKey('acme', 'orders');
    expect(key).toEqual({
      name: 'orders',
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 1,
      created_at: '2026-03-01T12:00:00.000Z',
      rotated_at: '2026-03-01T12:00:00.000Z',
      disabled: false,
      destroyed: false,
    });
    expect(h.keyring.getKey('acme', 'orders')).toEqual(key);
    h.keyring.createKey('acme', 'a.b_c-D9');
    expect(h.keyring.listKeys('acme').map((k) => k.name)).toEqual(['a.b_c-D9', 'orders']);
    expect(h.keyring.listKeys('globex')).toEqual([]);
  });

  it('refuse bad names, duplicates, unknown keys and unknown tenants with typed errors', () => {
    for (const bad of ['', 'a'.repeat(129), 'with space', 'slash/name', 'ünïcode', '../x']) {
      expect(catchError(() => h.keyring.createKey('acme', bad))).toBeInstanceOf(InvalidRequestError);
    }
    h.keyring.createKey('acme', 'a'.repeat(128));
    h.keyring.createKey('acme', 'orders');
    const dup = catchError(() => h.keyring.createKey('acme', 'orders'));
    expect(dup).toBeInstanceOf(KeyConflictError);
    expect(dup.code).toBe('conflict');
    // Same name in another tenant is another key.
    h.keyring.createKey('globex', 'orders');
    expect(catchError(() => h.keyring.getKey('acme', 'missing'))).toBeInstanceOf(NotFoundError);
    expect(catchError(() => h.keyring.encrypt('acme', 'missing', Buffer.from('x')))).toBeInstanceOf(NotFoundError);
    expect(catchError(() => h.keyring.createKey('nobody', 'orders'))).toBeInstanceOf(NotFoundError);
  });
});

describe('encrypt and decrypt', () => {
  beforeEach(() => {
    h.keyring.createKey('acme', 'orders');
    h.keyring.createKey('acme', 'other');
    h.keyring.createKey('globex', 'orders');
  });

  it('round-trip, with and without context, including empty and large plaintexts', () => {
    for (const plaintext of [Buffer.alloc(0), Buffer.from('hello'), randomBytes(100_000)]) {
      const ciphertext = h.keyring.encrypt('acme', 'orders', plaintext);
      expect(ciphertext).toMatch(/^as:v1:[A-Za-z0-9+/]+=*$/);
      expect(h.keyring.decrypt('acme', 'orders', ciphertext).equals(plaintext)).toBe(true);
      const withContext = h.keyring.encrypt('acme', 'orders', plaintext, Buffer.from('field:/ssn'));
      expect(h.keyring.decrypt('acme', 'orders', withContext, Buffer.from('field:/ssn')).equals(plaintext)).toBe(true);
    }
    // Random nonces: the same plaintext never gives the same ciphertext.
    expect(h.keyring.encrypt('acme', 'orders', Buffer.from('x'))).not.toBe(
      h.keyring.encrypt('acme', 'orders', Buffer.from('x')),
    );
  });

  it('refuse every single-character and single-byte change of a ciphertext', () => {
    const ciphertext = h.keyring.encrypt('acme', 'orders', Buffer.from('attack at dawn'), Buffer.from('ctx'));
    for (let i = 0; i < ciphertext.length; i++) {
      const error = catchError(() => h.keyring.decrypt('acme', 'orders', flipChar(ciphertext, i), Buffer.from('ctx')));
      expect(error, `character ${i}`).toBeInstanceOf(InvalidCiphertextError);
      expect(error.code).toBe('invalid_ciphertext');
    }
    const [prefix, body] = [ciphertext.slice(0, 6), Buffer.from(ciphertext.slice(6), 'base64')];
    for (let i = 0; i < body.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const changed = Buffer.from(body);
        changed[i] = (changed[i] ?? 0) ^ mask;
        const error = catchError(() =>
          h.keyring.decrypt('acme', 'orders', prefix + changed.toString('base64'), Buffer.from('ctx')),
        );
        expect(error, `byte ${i} ^ ${mask}`).toBeInstanceOf(InvalidCiphertextError);
      }
    }
    // Truncation (a shorter tag) and extension fail too.
    const truncated = prefix + body.subarray(0, body.length - 4).toString('base64');
    expect(catchError(() => h.keyring.decrypt('acme', 'orders', truncated, Buffer.from('ctx')))).toBeInstanceOf(
      InvalidCiphertextError,
    );
    const extended = prefix + Buffer.concat([body, Buffer.alloc(1)]).toString('base64');
    expect(catchError(() => h.keyring.decrypt('acme', 'orders', extended, Buffer.from('ctx')))).toBeInstanceOf(
      InvalidCiphertextError,
    );
    for (const junk of ['', 'garbage', 'as:v1:', 'as:v2:' + body.toString('base64'), 'as:v1:!!!!']) {
      expect(catchError(() => h.keyring.decrypt('acme', 'orders', junk))).toBeInstanceOf(InvalidCiphertextError);
    }
  });

  it('refuse a ciphertext moved to another tenant, another key or another context', () => {
    const ciphertext = h.keyring.encrypt('acme', 'orders', Buffer.from('secret'), Buffer.from('entity-1'));
    const attempts = [
      () => h.keyring.decrypt('globex', 'orders', ciphertext, Buffer.from('entity-1')),
      () => h.keyring.decrypt('acme', 'other', ciphertext, Buffer.from('entity-1')),
      () => h.keyring.decrypt('acme', 'orders', ciphertext, Buffer.from('entity-2')),
      () => h.keyring.decrypt('acme', 'orders', ciphertext),
      () => h.keyring.rewrap('globex', 'orders', ciphertext, Buffer.from('entity-1')),
    ];
    for (const attempt of attempts) expect(catchError(attempt)).toBeInstanceOf(InvalidCiphertextError);
    // The genuine one still works.
    expect(h.keyring.decrypt('acme', 'orders', ciphertext, Buffer.from('entity-1')).toString()).toBe('secret');
  });
});

describe('versions', () => {
  beforeEach(() => {
    h.keyring.createKey('acme', 'orders');
  });

  it('rotate: new ciphertexts use the latest version and old ones still decrypt', () => {
    const v1 = h.keyring.encrypt('acme', 'orders', Buffer.from('one'));
    h.advance(1000);
    expect(h.keyring.rotate('acme', 'orders')).toMatchObject({
      latest_version: 2,
      rotated_at: '2026-03-01T12:00:01.000Z',
      created_at: '2026-03-01T12:00:00.000Z',
    });
    h.keyring.rotate('acme', 'orders');
    const v3 = h.keyring.encrypt('acme', 'orders', Buffer.from('three'));
    expect(v3.startsWith('as:v3:')).toBe(true);
    expect(h.keyring.decrypt('acme', 'orders', v1).toString()).toBe('one');
    expect(h.keyring.decrypt('acme', 'orders', v3).toString()).toBe('three');
    // The versions have independent keys.
    expect(h.versionKey('acme', 'orders', 1).equals(h.versionKey('acme', 'orders', 3))).toBe(false);
    // A v3 body relabelled as v1 does not decrypt.
    expect(catchError(() => h.keyring.decrypt('acme', 'orders', v3.replace('as:v3:', 'as:v1:')))).toBeInstanceOf(
      InvalidCiphertextError,
    );
  });

  it('min_decryption_version blocks older versions until lowered again', () => {
    const v1 = h.keyring.encrypt('acme', 'orders', Buffer.from('one'));
    h.keyring.rotate('acme', 'orders');
    const v2 = h.keyring.encrypt('acme', 'orders', Buffer.from('two'));
    expect(h.keyring.configure('acme', 'orders', { min_decryption_version: 2 })).toMatchObject({
      min_decryption_version: 2,
      min_encryption_version: 1,
    });
    const error = catchError(() => h.keyring.decrypt('acme', 'orders', v1));
    expect(error).toBeInstanceOf(KeyVersionDisabledError);
    expect(error.code).toBe('key_version_disabled');
    expect(catchError(() => h.keyring.rewrap('acme', 'orders', v1))).toBeInstanceOf(KeyVersionDisabledError);
    expect(h.keyring.decrypt('acme', 'orders', v2).toString()).toBe('two');
    h.keyring.configure('acme', 'orders', { min_decryption_version: 1 });
    expect(h.keyring.decrypt('acme', 'orders', v1).toString()).toBe('one');
  });

  it('configure refuses versions out of range, and min_encryption_version beyond the latest', () => {
    h.keyring.rotate('acme', 'orders');
    for (const config of [
      { min_encryption_version: 3 },
      { min_decryption_version: 3 },
      { min_decryption_version: 0 },
      { min_encryption_version: 1.5 },
      { min_encryption_version: '2' as unknown as number },
    ]) {
      expect(catchError(() => h.keyring.configure('acme', 'orders', config))).toBeInstanceOf(InvalidRequestError);
    }
    expect(h.keyring.configure('acme', 'orders', { min_encryption_version: 2 })).toMatchObject({
      min_encryption_version: 2,
      min_decryption_version: 1,
    });
    expect(h.keyring.encrypt('acme', 'orders', Buffer.from('x')).startsWith('as:v2:')).toBe(true);
    // Nothing was changed by the refused calls.
    expect(h.keyring.getKey('acme', 'orders')).toMatchObject({ latest_version: 2, min_decryption_version: 1 });
  });

  it('rewrap moves a ciphertext to the latest version and never returns the plaintext', () => {
    const plaintext = Buffer.from('a very recognisable plaintext');
    const v1 = h.keyring.encrypt('acme', 'orders', plaintext, Buffer.from('ctx'));
    h.keyring.rotate('acme', 'orders');
    h.keyring.rotate('acme', 'orders');
    const rewrapped = h.keyring.rewrap('acme', 'orders', v1, Buffer.from('ctx'));
    expect(typeof rewrapped).toBe('string');
    expect(rewrapped.startsWith('as:v3:')).toBe(true);
    expect(rewrapped).not.toContain(plaintext.toString());
    expect(rewrapped).not.toContain(plaintext.toString('base64'));
    expect(h.keyring.decrypt('acme', 'orders', rewrapped, Buffer.from('ctx')).equals(plaintext)).toBe(true);
    // The context stays bound after rewrap.
    expect(catchError(() => h.keyring.decrypt('acme', 'orders', rewrapped))).toBeInstanceOf(InvalidCiphertextError);
    // Now v1 can be retired and the rewrapped one still reads.
    h.keyring.configure('acme', 'orders', { min_decryption_version: 3 });
    expect(h.keyring.decrypt('acme', 'orders', rewrapped, Buffer.from('ctx')).equals(plaintext)).toBe(true);
    expect(
      catchError(() => h.keyring.rewrap('acme', 'orders', flipChar(rewrapped, 20), Buffer.from('ctx'))),
    ).toBeInstanceOf(InvalidCiphertextError);
  });

  it('rotates itself before a version reaches its encryption limit, and the count survives a restart', () => {
    let keyring = h.rebuild({ rotateAfter: 3 });
    const versions = () => keyring.getKey('acme', 'orders').latest_version;
    const counts = () =>
      h.db.prepare(`SELECT version, encryptions FROM keyring_versions WHERE tenant_id = 'acme' ORDER BY version`).all();
    keyring.encrypt('acme', 'orders', Buffer.from('1'));
    keyring.encrypt('acme', 'orders', Buffer.from('2'));
    expect(counts()).toEqual([{ version: 1, encryptions: 2 }]);
    keyring = h.reopen({ rotateAfter: 3 });
    const third = keyring.encrypt('acme', 'orders', Buffer.from('3'));
    expect(third.startsWith('as:v1:')).toBe(true);
    expect(versions()).toBe(1);
    // Data keys and rewraps count as encryptions too.
    const fourth = keyring.dataKey('acme', 'orders', { wrappedOnly: true }).ciphertext;
    expect(fourth.startsWith('as:v2:')).toBe(true);
    expect(versions()).toBe(2);
    keyring.rewrap('acme', 'orders', third);
    keyring.encrypt('acme', 'orders', Buffer.from('6'));
    expect(keyring.encrypt('acme', 'orders', Buffer.from('7')).startsWith('as:v3:')).toBe(true);
    expect(counts()).toEqual([
      { version: 1, encryptions: 3 },
      { version: 2, encryptions: 3 },
      { version: 3, encryptions: 1 },
    ]);
    // Decryption does not count.
    const before = counts();
    keyring.decrypt('acme', 'orders', third);
    expect(counts()).toEqual(before);
    expect(keyring.decrypt('acme', 'orders', third).toString()).toBe('3');
  });
});

describe('data keys', () => {
  beforeEach(() => {
    h.keyring.createKey('acme', 'envelope');
  });

  it('give a 32-byte key and its wrapped form, which decrypt unwraps to the same bytes', () => {
    const { ciphertext, plaintext } = h.keyring.dataKey('acme', 'envelope');
    expect(plaintext).toHaveLength(32);
    expect(ciphertext.startsWith('as:v1:')).toBe(true);
    expect(h.keyring.decrypt('acme', 'envelope', ciphertext).equals(plaintext as Buffer)).toBe(true);
    const other = h.keyring.dataKey('acme', 'envelope');
    expect(other.plaintext?.equals(plaintext as Buffer)).toBe(false);
  });

  it('wrapped only: no plaintext in the result; bound to its context', () => {
    const result = h.keyring.dataKey('acme', 'envelope', { wrappedOnly: true, context: Buffer.from('entity-9') });
    expect(Object.keys(result)).toEqual(['ciphertext']);
    expect(h.keyring.decrypt('acme', 'envelope', result.ciphertext, Buffer.from('entity-9'))).toHaveLength(32);
    expect(catchError(() => h.keyring.decrypt('acme', 'envelope', result.ciphertext))).toBeInstanceOf(
      InvalidCiphertextError,
    );
  });
});

describe('disable and destroy', () => {
  beforeEach(() => {
    h.keyring.createKey('acme', 'orders');
  });

  it('a disabled key refuses every use until enabled again', () => {
    const ciphertext = h.keyring.encrypt('acme', 'orders', Buffer.from('x'));
    expect(h.keyring.disable('acme', 'orders')).toMatchObject({ disabled: true });
    for (const use of [
      () => h.keyring.encrypt('acme', 'orders', Buffer.from('x')),
      () => h.keyring.decrypt('acme', 'orders', ciphertext),
      () => h.keyring.rewrap('acme', 'orders', ciphertext),
      () => h.keyring.dataKey('acme', 'orders'),
    ]) {
      const error = catchError(use);
      expect(error).toBeInstanceOf(KeyDisabledError);
      expect(error.code).toBe('key_disabled');
    }
    expect(h.keyring.enable('acme', 'orders')).toMatchObject({ disabled: false });
    expect(h.keyring.decrypt('acme', 'orders', ciphertext).toString()).toBe('x');
  });

  it('destroy needs the typed confirmation and is permanent, also after reopening the database', () => {
    const ciphertext = h.keyring.encrypt('acme', 'orders', Buffer.from('gone'));
    h.keyring.rotate('acme', 'orders');
    for (const wrong of ['', 'Orders', 'orders ', 'other']) {
      expect(catchError(() => h.keyring.destroy('acme', 'orders', wrong))).toBeInstanceOf(InvalidRequestError);
    }
    expect(h.keyring.decrypt('acme', 'orders', ciphertext).toString()).toBe('gone');
    expect(h.keyring.destroy('acme', 'orders', 'orders')).toMatchObject({ destroyed: true, latest_version: 2 });
    const rows = h.db.prepare(`SELECT count(*) FROM keyring_versions WHERE name = 'orders'`).pluck();
    expect(rows.get()).toBe(0);

    const keyring = h.reopen();
    expect(keyring.getKey('acme', 'orders')).toMatchObject({ destroyed: true });
    for (const use of [
      () => keyring.encrypt('acme', 'orders', Buffer.from('x')),
      () => keyring.decrypt('acme', 'orders', ciphertext),
      () => keyring.rewrap('acme', 'orders', ciphertext),
      () => keyring.dataKey('acme', 'orders'),
      () => keyring.rotate('acme', 'orders'),
      () => keyring.configure('acme', 'orders', { min_decryption_version: 1 }),
      () => keyring.enable('acme', 'orders'),
      () => keyring.disable('acme', 'orders'),
    ]) {
      const error = catchError(use);
      expect(error).toBeInstanceOf(KeyDestroyedError);
      expect(error.code).toBe('key_destroyed');
    }
    // The name cannot be reused to bring the key back, and destroying again changes nothing.
    expect(catchError(() => keyring.createKey('acme', 'orders'))).toBeInstanceOf(KeyConflictError);
    expect(keyring.destroy('acme', 'orders', 'orders')).toMatchObject({ destroyed: true });
    expect(h.db.prepare(`SELECT count(*) FROM keyring_versions`).pluck().get()).toBe(0);
  });
});

describe('key material at rest', () => {
  it('a version row moved to another tenant, key or version no longer unwraps', () => {
    h.keyring.createKey('acme', 'a');
    h.keyring.createKey('acme', 'b');
    h.keyring.createKey('globex', 'a');
    h.keyring.rotate('acme', 'a');
    const ciphertext = h.keyring.encrypt('acme', 'b', Buffer.from('x'));
    const copy = h.db.prepare(
      `UPDATE keyring_versions SET wrapped_key =
         (SELECT wrapped_key FROM keyring_versions WHERE tenant_id = ? AND name = ? AND version = ?)
       WHERE tenant_id = ? AND name = ? AND version = ?`,
    );
    copy.run('acme', 'a', 1, 'acme', 'b', 1); // another key
    copy.run('acme', 'a', 2, 'acme', 'a', 1); // another version
    copy.run('acme', 'b', 1, 'globex', 'a', 1); // another tenant
    expect(catchError(() => h.keyring.decrypt('acme', 'b', ciphertext))).toBeInstanceOf(KeyMaterialCorruptError);
    for (const [tenant, name] of [
      ['acme', 'b'],
      ['acme', 'a'],
      ['globex', 'a'],
    ] as const) {
      if (name === 'a' && tenant === 'acme') {
        // Version 2 is the latest of acme/a and was not touched: encrypt still works, v1 does not.
        expect(h.keyring.encrypt(tenant, name, Buffer.from('x')).startsWith('as:v2:')).toBe(true);
        continue;
      }
      const error = catchError(() => h.keyring.encrypt(tenant, name, Buffer.from('x')));
      expect(error).toBeInstanceOf(KeyMaterialCorruptError);
      expect(error.code).toBe('key_material_corrupt');
    }
  });

  it('a keyring with another KEK cannot use the keys, and says so without leaking material', () => {
    h.keyring.createKey('acme', 'orders');
    const ciphertext = h.keyring.encrypt('acme', 'orders', Buffer.from('x'));
    const stranger = h.rebuild({ kek: randomBytes(32) as typeof h.kek });
    const error = catchError(() => stranger.decrypt('acme', 'orders', ciphertext));
    expect(error).toBeInstanceOf(KeyMaterialCorruptError);
    const key = h.versionKey('acme', 'orders', 1);
    for (const text of [error.message, JSON.stringify(error.details), String(error.stack)]) {
      expect(text).not.toContain(key.toString('hex'));
      expect(text).not.toContain(key.toString('base64'));
      expect(text).not.toContain(h.kek.toString('hex'));
    }
  });

  it('no version key is stored in clear: not in the column, not in the database files', () => {
    for (const name of ['a', 'b', 'c']) {
      h.keyring.createKey('acme', name);
      h.keyring.rotate('acme', name);
      h.keyring.encrypt('acme', name, Buffer.from('payload'));
    }
    const keys = ['a', 'b', 'c'].flatMap((name) => [1, 2].map((v) => Buffer.from(h.versionKey('acme', name, v))));
    const stored = h.db.prepare<[], { wrapped_key: Buffer }>('SELECT wrapped_key FROM keyring_versions').all();
    expect(stored).toHaveLength(6);
    for (const { wrapped_key } of stored) {
      expect(wrapped_key).toHaveLength(12 + 32 + 16);
      for (const key of keys) {
        expect(wrapped_key.includes(key)).toBe(false);
        expect(wrapped_key.includes(key.subarray(0, 16))).toBe(false);
      }
    }
    h.closeDb();
    const files = [DATABASE_FILE, `${DATABASE_FILE}-wal`]
      .map((file) => join(h.dataDir, file))
      .filter((file) => existsSync(file));
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    expect(bytes.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(bytes.includes(key)).toBe(false);
      expect(bytes.includes(key.subarray(0, 16))).toBe(false);
      expect(bytes.includes(Buffer.from(key.toString('hex')))).toBe(false);
    }
    expect(bytes.includes(h.kek)).toBe(false);
    expect(bytes.includes(Buffer.from('payload'))).toBe(false);
  });
});
