import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROTATION_STEPS } from '../../src/server/kms/rotation/index.js';
import { runToEnd, startServerProcess, stopServerProcess, type ChildServer } from '../support/child-server.js';
import { createUser } from '../support/identity.js';
import { api, newApiKey, tempDir } from '../support/server.js';

/**
 * `allsource keys …` as a user runs it: moving the master key behind a passphrase, changing the
 * passphrase, rotating the master key (also killed with SIGKILL at every step), and `serve`
 * with a passphrase, locked or not.
 */

const PASSPHRASE = 'orchid tramline velvet 7';
const NEW_PASSPHRASE = 'granite puffin solstice 4';
const running: ChildServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => stopServerProcess(s)));
});

interface Dirs {
  base: string;
  dataDir: string;
  configDir: string;
  apiKey: string;
}

function dirs(): Dirs {
  const base = tempDir('allsource-keys-');
  return { base, dataDir: join(base, 'data'), configDir: join(base, 'config'), apiKey: newApiKey() };
}

async function serve(d: Dirs, env: Record<string, string> = {}): Promise<ChildServer> {
  const server = await startServerProcess({ dataDir: d.dataDir, configDir: d.configDir, apiKey: d.apiKey, env });
  running.push(server);
  return server;
}

async function stop(server: ChildServer): Promise<void> {
  await stopServerProcess(server);
  running.splice(running.indexOf(server), 1);
}

function keys(d: Dirs, args: string[], env: Record<string, string> = {}) {
  return runToEnd(['keys', ...args, '--data-dir', d.dataDir], { ALLSOURCE_CONFIG_DIR: d.configDir, ...env });
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** 60 events, a KMS key with one ciphertext, a user with a sign-in token. */
async function seed(server: ChildServer) {
  for (let i = 0; i < 3; i++) {
    const res = await api(server.url, '/api/v1/events/batch', {
      json: {
        events: Array.from({ length: 20 }, (_, j) => ({
          event_type: 'seed.added',
          entity_id: `e${(i * 20 + j) % 7}`,
          payload: { n: i * 20 + j },
        })),
      },
    });
    expect(res.status, res.text).toBe(201);
  }
  expect((await api(server.url, '/api/v1/kms/keys', { json: { name: 'orders' } })).status).toBe(201);
  await api(server.url, '/api/v1/kms/keys/orders/rotate', { method: 'POST' });
  const encrypted = await api(server.url, '/api/v1/kms/keys/orders/encrypt', { json: { plaintext: b64('card 4242') } });
  expect(encrypted.status, encrypted.text).toBe(201 === encrypted.status ? 201 : 200);
  const user = await createUser(server.url, { username: 'rotator', tenant_id: 'default', role: 'admin' });
  return { ciphertext: encrypted.body.ciphertext as string, token: user.token };
}

/** Everything seeded is still there and readable. */
async function expectIntact(server: ChildServer, ciphertext: string) {
  expect((await api(server.url, '/api/v1/stats')).body.total_events).toBe(60);
  const decrypted = await api(server.url, '/api/v1/kms/keys/orders/decrypt', { json: { ciphertext } });
  expect(decrypted.status, decrypted.text).toBe(200);
  expect(Buffer.from(decrypted.body.plaintext, 'base64').toString()).toBe('card 4242');
  // New ciphertexts under the latest version also work.
  const again = await api(server.url, '/api/v1/kms/keys/orders/encrypt', { json: { plaintext: b64('x') } });
  expect(again.body.ciphertext).toMatch(/^as:v2:/);
}

describe('allsource keys protect / status / change-passphrase', () => {
  it('moves an existing key file behind a passphrase, shreds the key file, and serves locked or unlocked', async () => {
    const d = dirs();
    const first = await serve(d);
    await api(first.url, '/api/v1/events', { json: { event_type: 'k.k', entity_id: 'a', payload: {} } });
    await stop(first);
    const keyFile = join(d.configDir, 'master.key');
    expect(existsSync(keyFile)).toBe(true);

    const protect = await keys(d, ['protect', '--with', 'passphrase'], { ALLSOURCE_NEW_PASSPHRASE: PASSPHRASE });
    expect(protect.code, protect.stderr).toBe(0);
    expect(protect.stdout).toContain('now protected by a passphrase');
    expect(protect.stdout).toMatch(/master\.key was overwritten and removed/);
    expect(existsSync(keyFile)).toBe(false);
    const passphraseFile = join(d.configDir, 'master-key.passphrase.json');
    expect(statSync(passphraseFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(passphraseFile, 'utf8'))).toMatchObject({ kdf: { algorithm: 'argon2id' } });
    expect(protect.stdout + protect.stderr).not.toContain(PASSPHRASE);

    const status = await keys(d, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/protector: +passphrase \(passphrase file .*master-key\.passphrase\.json\)/);
    expect(status.stdout).toMatch(/database: +.*allsource\.db \(exists\)/);
    expect(status.stdout).toMatch(/in use: +no/);

    const unlocked = await serve(d, { ALLSOURCE_PASSPHRASE: PASSPHRASE });
    expect(unlocked.output().stdout).not.toContain('LOCKED');
    expect((await api(unlocked.url, '/api/v1/stats')).body.total_events).toBe(1);
    expect((await keys(d, ['status'])).stdout).toMatch(/in use: +yes/);
    await stop(unlocked);

    // No terminal and no ALLSOURCE_PASSPHRASE: the server starts locked and says how to unlock.
    const locked = await serve(d);
    await expect.poll(() => locked.output().stdout).toContain('LOCKED');
    expect((await api(locked.url, '/api/v1/stats')).status).toBe(503);
    const unlock = await api(locked.url, '/api/v1/unlock', { json: { passphrase: PASSPHRASE } });
    expect(unlock.status, unlock.text).toBe(200);
    expect((await api(locked.url, '/api/v1/stats')).body.total_events).toBe(1);
  });

  it('a fresh install: protect makes a new key behind the passphrase; a weak passphrase is refused', async () => {
    const d = dirs();
    const weak = await keys(d, ['protect', '--with', 'passphrase'], { ALLSOURCE_NEW_PASSPHRASE: 'password' });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/at least 12 characters/);
    expect(existsSync(join(d.configDir, 'master-key.passphrase.json'))).toBe(false);
    const made = await keys(d, ['protect', '--with', 'passphrase'], { ALLSOURCE_NEW_PASSPHRASE: PASSPHRASE });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('a new master key was made');
    const server = await serve(d, { ALLSOURCE_PASSPHRASE: PASSPHRASE });
    expect((await api(server.url, '/health')).body.status).toBe('healthy');
  });

  it('a passphrase protector with no file and no passphrase refuses to start, saying what to do', async () => {
    const d = dirs();
    const result = await runToEnd(['serve', '--port', '0', '--data-dir', d.dataDir], {
      ALLSOURCE_CONFIG_DIR: d.configDir,
      ALLSOURCE_KEY_PROTECTOR: 'passphrase',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/allsource keys protect --with passphrase/);
  });

  it('change-passphrase: a wrong old one changes nothing; then the new one opens the store and the old one is refused', async () => {
    const d = dirs();
    await keys(d, ['protect', '--with', 'passphrase'], { ALLSOURCE_NEW_PASSPHRASE: PASSPHRASE });
    const server = await serve(d, { ALLSOURCE_PASSPHRASE: PASSPHRASE });
    await api(server.url, '/api/v1/events', { json: { event_type: 'k.k', entity_id: 'a', payload: {} } });
    await stop(server);
    const file = join(d.configDir, 'master-key.passphrase.json');
    const before = readFileSync(file);
    const database = readFileSync(join(d.dataDir, 'allsource.db'));

    const wrong = await keys(d, ['change-passphrase'], {
      ALLSOURCE_PASSPHRASE: 'not the passphrase',
      ALLSOURCE_NEW_PASSPHRASE: NEW_PASSPHRASE,
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('allsource: the passphrase is wrong');
    expect(readFileSync(file).equals(before)).toBe(true);

    const changed = await keys(d, ['change-passphrase'], {
      ALLSOURCE_PASSPHRASE: PASSPHRASE,
      ALLSOURCE_NEW_PASSPHRASE: NEW_PASSPHRASE,
    });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('the database was not touched');
    expect(readFileSync(join(d.dataDir, 'allsource.db')).equals(database)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const old = await runToEnd(['serve', '--port', '0', '--data-dir', d.dataDir], {
      ALLSOURCE_CONFIG_DIR: d.configDir,
      ALLSOURCE_PASSPHRASE: PASSPHRASE,
    });
    expect(old.code).toBe(1);
    expect(old.stderr.trim()).toBe('allsource: the passphrase is wrong');
    expect(old.stderr).not.toContain(PASSPHRASE);
    const reopened = await serve(d, { ALLSOURCE_PASSPHRASE: NEW_PASSPHRASE });
    expect((await api(reopened.url, '/api/v1/stats')).body.total_events).toBe(1);
  });

  it('change-passphrase without a terminal and without the variables says what it needs', async () => {
    const d = dirs();
    await keys(d, ['protect', '--with', 'passphrase'], { ALLSOURCE_NEW_PASSPHRASE: PASSPHRASE });
    const result = await keys(d, ['change-passphrase']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/set ALLSOURCE_PASSPHRASE or run this in a terminal/);
  });
});

describe('allsource keys rotate-master', () => {
  it('refuses while a server holds the data directory, and with ALLSOURCE_MASTER_KEY', async () => {
    const d = dirs();
    const server = await serve(d);
    const busy = await keys(d, ['rotate-master']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/is in use by another AllSource process/);
    await stop(server);
    const env = await keys(d, ['rotate-master'], { ALLSOURCE_MASTER_KEY: 'ab'.repeat(32) });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/ALLSOURCE_MASTER_KEY, which this command cannot change/);
  });

  it('re-keys the database with the key file: events and keyring keys intact, old sign-in tokens invalid', async () => {
    const d = dirs();
    const server = await serve(d);
    const { ciphertext, token } = await seed(server);
    expect((await api(server.url, '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    await stop(server);
    const keyFile = join(d.configDir, 'master.key');
    const oldKey = readFileSync(keyFile, 'utf8');

    const rotated = await keys(d, ['rotate-master'], { ALLSOURCE_TEST_REKEY_CHUNK_ROWS: '10' });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(
      /the master key was rotated: \d+ rows in \d+ tables re-encrypted, 2 keyring key versions re-wrapped/,
    );
    expect(rotated.stdout).toMatch(/sign-in tokens \(JWTs\) issued before are no longer valid/);
    expect(rotated.stderr).toMatch(/rotate-master: \d+\/\d+ rows \(\d+%\)/);
    expect(rotated.stderr).toContain('(100%)');
    expect(rotated.stdout + rotated.stderr).not.toContain(oldKey.trim());
    const newKey = readFileSync(keyFile, 'utf8');
    expect(newKey).not.toBe(oldKey);
    expect(newKey.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.stdout + rotated.stderr).not.toContain(newKey.trim());
    expect(readdirSync(d.dataDir).sort()).toEqual(['allsource.db', 'allsource.lock', 'audit-checkpoints.ndjson']);
    expect(readdirSync(d.configDir).filter((name) => name.includes('pending'))).toEqual([]);

    const after = await serve(d);
    await expectIntact(after, ciphertext);
    expect((await api(after.url, '/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
    await stop(after);
    // The old key no longer opens the database.
    const old = await runToEnd(['serve', '--port', '0', '--data-dir', d.dataDir], {
      ALLSOURCE_CONFIG_DIR: d.configDir,
      ALLSOURCE_MASTER_KEY: oldKey.trim(),
    });
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/wrong key/);
  });

  it('works with the passphrase protector: the same passphrase opens the re-keyed database', async () => {
    const d = dirs();
    await keys(d, ['protect', '--with', 'passphrase'], { ALLSOURCE_NEW_PASSPHRASE: PASSPHRASE });
    const server = await serve(d, { ALLSOURCE_PASSPHRASE: PASSPHRASE });
    const { ciphertext } = await seed(server);
    await stop(server);
    const file = join(d.configDir, 'master-key.passphrase.json');
    const before = readFileSync(file);
    const wrong = await keys(d, ['rotate-master'], { ALLSOURCE_PASSPHRASE: 'not the passphrase' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/\nallsource: the passphrase is wrong\n$/);
    expect(readFileSync(file).equals(before)).toBe(true);

    const rotated = await keys(d, ['rotate-master'], { ALLSOURCE_PASSPHRASE: PASSPHRASE });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(readFileSync(file).equals(before)).toBe(false);
    const after = await serve(d, { ALLSOURCE_PASSPHRASE: PASSPHRASE });
    await expectIntact(after, ciphertext);
  });

  describe('killed with SIGKILL at each step', () => {
    let template: Dirs;
    let ciphertext: string;

    beforeAll(async () => {
      template = dirs();
      const server = await serve(template);
      ciphertext = (await seed(server)).ciphertext;
      await stop(server);
    });

    function copyOf(t: Dirs): Dirs {
      const d = dirs();
      cpSync(t.dataDir, d.dataDir, { recursive: true });
      cpSync(t.configDir, d.configDir, { recursive: true });
      return { ...d, apiKey: t.apiKey };
    }

    const rolledBack = ['staged', 'copying', 'copied'];

    it.each(ROTATION_STEPS)(
      'after "%s" the next start finishes or rolls back, with every event and key intact',
      async (step) => {
        const d = copyOf(template);
        const keyFile = join(d.configDir, 'master.key');
        const oldKey = readFileSync(keyFile, 'utf8');
        const killed = await keys(d, ['rotate-master'], {
          ALLSOURCE_TEST_CRASH_AT: step,
          ALLSOURCE_TEST_REKEY_CHUNK_ROWS: '10',
        });
        expect(killed.code, killed.stderr).toBe('SIGKILL');
        if (step === 'copying') {
          // Killed after the first chunk, with rows still to copy.
          const [, done, total] = /rotate-master: (\d+)\/(\d+) rows/.exec(killed.stderr) ?? [];
          expect(Number(done)).toBeLessThan(Number(total));
          expect(killed.stderr).not.toContain('(100%)');
        }

        const after = await serve(d, { ALLSOURCE_LOG_LEVEL: 'warn' });
        await expectIntact(after, ciphertext);
        const log = after.output().stderr;
        if (rolledBack.includes(step)) {
          expect(log).toContain('an interrupted master-key rotation was rolled back');
          expect(readFileSync(keyFile, 'utf8')).toBe(oldKey);
        } else {
          if (step === 'swapped') expect(log).toContain('an interrupted master-key rotation was completed');
          expect(readFileSync(keyFile, 'utf8')).not.toBe(oldKey);
        }
        await stop(after);
        expect(readdirSync(d.dataDir).filter((name) => name.includes('rekey'))).toEqual([]);
        expect(readdirSync(d.configDir).filter((name) => name.includes('pending'))).toEqual([]);

        // And a rotation after the recovery completes normally.
        const again = await keys(d, ['rotate-master']);
        expect(again.code, again.stderr).toBe(0);
        const last = await serve(d);
        await expectIntact(last, ciphertext);
      },
    );
  });
});
