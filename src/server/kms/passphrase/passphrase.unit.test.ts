import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMasterKey, MasterKeyError } from '../master-key.js';
import {
  changePassphrase,
  checkNewPassphrase,
  DEFAULT_KDF,
  parsePassphraseFile,
  passphraseProtector,
  PassphraseRequiredError,
  serializePassphraseFile,
  unwrapWithPassphrase,
  WeakPassphraseError,
  wrapWithPassphrase,
  writePassphraseFile,
  WrongPassphraseError,
  type KdfParams,
} from './index.js';

const FAST: KdfParams = { memoryKib: 8192, iterations: 1, parallelism: 1 };
const GOOD = 'correct horse battery staple';

function dir() {
  return mkdtempSync(join(tmpdir(), 'allsource-passphrase-'));
}

describe('wrapWithPassphrase / unwrapWithPassphrase', () => {
  it('round-trips with the default cost, and stores the cost, salt and IV in the file', async () => {
    const key = generateMasterKey();
    const file = await wrapWithPassphrase(key, GOOD);
    expect(file.kdf).toMatchObject({
      algorithm: 'argon2id',
      memory_kib: DEFAULT_KDF.memoryKib,
      iterations: DEFAULT_KDF.iterations,
      parallelism: DEFAULT_KDF.parallelism,
    });
    expect(Buffer.from(file.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(file.cipher.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(file.cipher.ciphertext, 'base64')).toHaveLength(48);
    const text = serializePassphraseFile(file);
    expect(text).not.toContain(key.toString('hex'));
    expect(text).not.toContain(key.toString('base64'));
    expect((await unwrapWithPassphrase(parsePassphraseFile(text, 'f'), GOOD)).equals(key)).toBe(true);
  });

  it('uses a fresh salt and IV each time', async () => {
    const key = generateMasterKey();
    const a = await wrapWithPassphrase(key, GOOD, FAST);
    const b = await wrapWithPassphrase(key, GOOD, FAST);
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.cipher.iv).not.toBe(b.cipher.iv);
  });

  it.each([
    ['a wrong passphrase', 'correct horse battery stapler'],
    ['an empty one', ''],
    ['a very long one', 'x'.repeat(5000)],
  ])('refuses %s with "the passphrase is wrong"', async (_name, wrong) => {
    const file = await wrapWithPassphrase(generateMasterKey(), GOOD, FAST);
    const error = await unwrapWithPassphrase(file, wrong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongPassphraseError);
    expect((error as Error).message).toBe('the passphrase is wrong');
  });

  it('detects an edited header or ciphertext (the KDF parameters are bound as associated data)', async () => {
    const file = await wrapWithPassphrase(generateMasterKey(), GOOD, FAST);
    const edited = { ...file, kdf: { ...file.kdf, iterations: 2 } };
    await expect(unwrapWithPassphrase(edited, GOOD)).rejects.toBeInstanceOf(WrongPassphraseError);
    const bytes = Buffer.from(file.cipher.ciphertext, 'base64');
    bytes[3]! ^= 1;
    const flipped = { ...file, cipher: { ...file.cipher, ciphertext: bytes.toString('base64') } };
    await expect(unwrapWithPassphrase(flipped, GOOD)).rejects.toBeInstanceOf(WrongPassphraseError);
  });

  it('treats the same text in another Unicode normalization as the same passphrase', async () => {
    const composed = 'caf\u00e9 au lait, sans sucre';
    const decomposed = 'cafe\u0301 au lait, sans sucre';
    const key = generateMasterKey();
    const file = await wrapWithPassphrase(key, composed, FAST);
    expect((await unwrapWithPassphrase(file, decomposed)).equals(key)).toBe(true);
  });
});

describe('parsePassphraseFile', () => {
  it.each([
    ['not JSON', '{'],
    ['another format', JSON.stringify({ format: 'x', version: 1 })],
    ['a huge memory cost', null],
  ])('refuses %s as damaged, naming the file', async (_name, text) => {
    let content = text;
    if (content === null) {
      const file = await wrapWithPassphrase(generateMasterKey(), GOOD, FAST);
      content = JSON.stringify({ ...file, kdf: { ...file.kdf, memory_kib: 1 << 30 } });
    }
    expect(() => parsePassphraseFile(content, '/cfg/p.json')).toThrow(MasterKeyError);
    expect(() => parsePassphraseFile(content, '/cfg/p.json')).toThrow(/passphrase file \/cfg\/p\.json is damaged/);
  });
});

describe('checkNewPassphrase', () => {
  it.each([
    ['too short', 'short one', /at least 12 characters/],
    ['common', 'passwordpassword', /commonly used/],
    ['too long', 'y'.repeat(1025), /at most 1024/],
  ])('refuses a %s passphrase without repeating it', (_name, passphrase, message) => {
    const error = (() => {
      try {
        checkNewPassphrase(passphrase);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(WeakPassphraseError);
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toContain(passphrase);
  });

  it('accepts twelve characters that are not on the list', () => {
    expect(() => checkNewPassphrase('tulip-lantern-9')).not.toThrow();
  });
});

describe('passphraseProtector', () => {
  it('on a first run makes a new key and a 0600 file; later loads need the same passphrase', async () => {
    const file = join(dir(), 'cfg', 'p.json');
    const protector = passphraseProtector(file, { kdf: FAST });
    expect(protector.exists()).toBe(false);
    const key = await protector.load({ firstRun: true, secret: GOOD });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await protector.load({ firstRun: false, secret: GOOD })).equals(key)).toBe(true);
    await expect(protector.load({ firstRun: false })).rejects.toBeInstanceOf(PassphraseRequiredError);
  });

  it('refuses a weak passphrase on the first run and writes nothing', async () => {
    const file = join(dir(), 'p.json');
    await expect(
      passphraseProtector(file, { kdf: FAST }).load({ firstRun: true, secret: 'abc' }),
    ).rejects.toBeInstanceOf(WeakPassphraseError);
    expect(passphraseProtector(file).exists()).toBe(false);
  });

  it('will not make a new key when the database exists but the file is gone', async () => {
    const file = join(dir(), 'p.json');
    await expect(passphraseProtector(file).load({ firstRun: false, secret: GOOD })).rejects.toThrow(
      /the database exists but its passphrase file .* is missing/,
    );
  });

  it('a wrong passphrase changes nothing: same bytes, same mode', async () => {
    const file = join(dir(), 'p.json');
    await writePassphraseFile(file, generateMasterKey(), GOOD, FAST);
    const before = readFileSync(file);
    await expect(
      passphraseProtector(file).load({ firstRun: false, secret: 'not the passphrase' }),
    ).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a file that other users can read', async () => {
    const file = join(dir(), 'p.json');
    await writePassphraseFile(file, generateMasterKey(), GOOD, FAST);
    writeFileSync(file, readFileSync(file), { mode: 0o644 });
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    await expect(passphraseProtector(file).load({ firstRun: false, secret: GOOD })).rejects.toThrow(/chmod 600/);
  });

  it('stages, commits and discards a pending key under the same passphrase', async () => {
    const file = join(dir(), 'p.json');
    const protector = passphraseProtector(file, { kdf: FAST });
    const current = await protector.load({ firstRun: true, secret: GOOD });
    const next = generateMasterKey();
    await protector.pending.write(next, GOOD);
    expect(protector.pending.exists()).toBe(true);
    expect((await protector.pending.load(GOOD)).equals(next)).toBe(true);
    protector.pending.discard();
    expect(protector.pending.exists()).toBe(false);
    expect((await protector.load({ firstRun: false, secret: GOOD })).equals(current)).toBe(true);
    await protector.pending.write(next, GOOD);
    protector.pending.commit();
    expect((await protector.load({ firstRun: false, secret: GOOD })).equals(next)).toBe(true);
  });
});

describe('changePassphrase', () => {
  it('rewraps the same key: the new passphrase opens it, the old one no longer does', async () => {
    const file = join(dir(), 'p.json');
    const key = generateMasterKey();
    await writePassphraseFile(file, Buffer.from(key) as typeof key, GOOD, FAST);
    await changePassphrase(file, GOOD, 'a brand new passphrase', FAST);
    const protector = passphraseProtector(file);
    expect((await protector.load({ firstRun: false, secret: 'a brand new passphrase' })).equals(key)).toBe(true);
    await expect(protector.load({ firstRun: false, secret: GOOD })).rejects.toBeInstanceOf(WrongPassphraseError);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('with a wrong old passphrase or a weak new one leaves the file byte for byte', async () => {
    const file = join(dir(), 'p.json');
    await writePassphraseFile(file, generateMasterKey(), GOOD, FAST);
    const before = readFileSync(file);
    await expect(changePassphrase(file, 'wrong old passphrase', 'a brand new passphrase', FAST)).rejects.toThrow(
      'the passphrase is wrong',
    );
    await expect(changePassphrase(file, GOOD, 'short', FAST)).rejects.toBeInstanceOf(WeakPassphraseError);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
