import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runToEnd, startServerProcess, type ChildServer } from '../support/child-server.js';
import { api, newApiKey, tempDir } from '../support/server.js';

const running: ChildServer[] = [];
afterEach(() => running.splice(0).forEach((p) => p.child.kill('SIGKILL')));

/**
 * `allsource serve --port 0 --data-dir <dataDir> [args]` with the key file in configDir unless env
 * names a key, and a bootstrap admin API key that `api()` sends.
 */
function serve(dataDir: string, configDir: string, env: Record<string, string> = {}, args: string[] = []) {
  return startServerProcess({ dataDir, configDir, env, apiKey: newApiKey() }, args);
}

function dirs() {
  const base = tempDir('allsource-cli-');
  return { dataDir: join(base, 'data'), configDir: join(base, 'config'), base };
}

/** One line on stderr, prefixed, and no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^allsource: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\bat .+:\d+:\d+/);
}

describe('allsource serve', () => {
  it('on first run creates a 0600 key file in the config folder, never in the data directory, and an encrypted database', async () => {
    const { dataDir, configDir } = dirs();
    const server = await serve(dataDir, configDir);
    running.push(server);
    const keyFile = join(configDir, 'master.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    const health = await api(server.url, '/health');
    expect(health.body.storage.encrypted).toBe(true);
    expect(readFileSync(join(dataDir, 'allsource.db')).subarray(0, 16).toString('latin1')).not.toContain(
      'SQLite format',
    );
  });

  it('closes the database cleanly on SIGTERM and SIGINT, keeping every acknowledged event', async () => {
    const { dataDir, configDir } = dirs();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await serve(dataDir, configDir);
      const res = await api(server.url, '/api/v1/events', {
        json: { event_type: 'sig.test', entity_id: signal, payload: {} },
      });
      expect(res.status).toBe(201);
      server.child.kill(signal);
      expect((await server.exited).code).toBe(0);
      expect(server.output().stdout).toContain(`${signal} received`);
      // A clean close checkpoints the write-ahead log into the database file and removes it.
      expect(existsSync(join(dataDir, 'allsource.db-wal'))).toBe(false);
    }
    const server = await serve(dataDir, configDir);
    running.push(server);
    expect((await api(server.url, '/api/v1/stats')).body.total_events).toBe(2);
  });

  it('stops with one clear line when the port is in use', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const port = (blocker.address() as { port: number }).port;
    const { dataDir, configDir } = dirs();
    const result = await runToEnd(['serve', '--port', String(port), '--data-dir', dataDir], {
      ALLSOURCE_CONFIG_DIR: configDir,
    });
    blocker.close();
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
  });

  it('stops with one clear line when the data directory is not usable', async () => {
    const { base, configDir } = dirs();
    const file = join(base, 'a-file');
    writeFileSync(file, 'not a directory');
    const result = await runToEnd(['serve', '--data-dir', join(file, 'data')], { ALLSOURCE_CONFIG_DIR: configDir });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /data directory .* is not a writable directory/);
  });

  it.each([
    ['missing', null, /config file .* cannot be read \(ENOENT\)/],
    ['not JSON', '{ port: ', /config file .* is not valid JSON/],
    ['a bad value', '{"port": "eighty"}', /config file .* is invalid: port/],
    ['an unknown key', '{"prot": 8080}', /config file .* is invalid/],
  ])('stops with one clear line when the config file is %s', async (_name, content, pattern) => {
    const { base, dataDir, configDir } = dirs();
    const file = join(base, 'config.json');
    if (content !== null) writeFileSync(file, content);
    const result = await runToEnd(['serve', '--config', file, '--data-dir', dataDir], {
      ALLSOURCE_CONFIG_DIR: configDir,
    });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, pattern);
  });

  it('reads settings from a config file, with flags taking precedence', async () => {
    const { base, dataDir, configDir } = dirs();
    const file = join(base, 'config.json');
    writeFileSync(file, JSON.stringify({ data_dir: join(base, 'elsewhere'), durability: 'normal' }));
    const server = await serve(dataDir, configDir, {}, ['--config', file]);
    running.push(server);
    expect((await api(server.url, '/health')).body.storage.durability).toBe('normal');
    expect(existsSync(join(dataDir, 'allsource.db'))).toBe(true);
    expect(existsSync(join(base, 'elsewhere'))).toBe(false);
  });

  it('refuses dev mode on a non-loopback address', async () => {
    const { dataDir, configDir } = dirs();
    const result = await runToEnd(['serve', '--host', '0.0.0.0', '--data-dir', dataDir], {
      ALLSOURCE_CONFIG_DIR: configDir,
      ALLSOURCE_DEV_MODE: 'true',
    });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /refusing to start in dev mode on 0\.0\.0\.0/);
  });

  it('on a first start with no bootstrap key creates an admin, prints its password once and keeps it in a 0600 file', async () => {
    const { dataDir, configDir } = dirs();
    const first = await startServerProcess({ dataDir, configDir });
    running.push(first);
    // The account lines follow the "listening" line; give them a moment to arrive.
    for (let i = 0; i < 100 && !/password: \S+\n/.test(first.output().stdout); i++) await sleep(50);
    const printed = /username: (\S+)\n\s+password: (\S+)/.exec(first.output().stdout);
    expect(printed).not.toBeNull();
    const [, username, password] = printed!;
    const file = join(configDir, 'initial-admin-password');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(password!);
    const login = await api(first.url, '/api/v1/auth/login', { json: { username, password }, anonymous: true });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ username: 'admin', role: 'admin', tenant_id: 'default' });
    first.child.kill('SIGTERM');
    await first.exited;
    // The second start makes no new account and prints no password.
    const second = await startServerProcess({ dataDir, configDir });
    running.push(second);
    expect(second.output().stdout).not.toContain('password:');
  });

  it('stops on a wrong key with a clear message and leaves the file untouched', async () => {
    const { dataDir, configDir } = dirs();
    const key = randomBytes(32).toString('hex');
    const server = await serve(dataDir, configDir, { ALLSOURCE_MASTER_KEY: key });
    await api(server.url, '/api/v1/events', { json: { event_type: 'k.k', entity_id: 'k', payload: {} } });
    server.child.kill('SIGTERM');
    await server.exited;
    const before = readFileSync(join(dataDir, 'allsource.db'));
    const wrong = randomBytes(32).toString('hex');
    const result = await runToEnd(['serve', '--port', '0', '--data-dir', dataDir], {
      ALLSOURCE_CONFIG_DIR: configDir,
      ALLSOURCE_MASTER_KEY: wrong,
    });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /the master key does not open .*allsource\.db: wrong key/);
    expect(result.stderr).not.toContain(wrong);
    expect(readFileSync(join(dataDir, 'allsource.db')).equals(before)).toBe(true);
  });

  it('refuses a malformed ALLSOURCE_MASTER_KEY without echoing it', async () => {
    const { dataDir, configDir } = dirs();
    const result = await runToEnd(['serve', '--data-dir', dataDir], {
      ALLSOURCE_CONFIG_DIR: configDir,
      ALLSOURCE_MASTER_KEY: 'secret-but-short',
    });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /ALLSOURCE_MASTER_KEY must hold exactly 64 hexadecimal characters/);
    expect(result.stderr).not.toContain('secret-but-short');
  });

  it('will not invent a new key for an existing database whose key file is gone', async () => {
    const { dataDir, configDir } = dirs();
    const server = await serve(dataDir, configDir);
    server.child.kill('SIGTERM');
    await server.exited;
    const result = await runToEnd(['serve', '--data-dir', dataDir], { ALLSOURCE_CONFIG_DIR: join(configDir, 'other') });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /the database exists but its master key file .* is missing/);
  });

  it('refuses a key file that other users can read', async () => {
    const { dataDir, configDir } = dirs();
    const server = await serve(dataDir, configDir);
    server.child.kill('SIGTERM');
    await server.exited;
    chmodSync(join(configDir, 'master.key'), 0o644);
    const result = await runToEnd(['serve', '--data-dir', dataDir], { ALLSOURCE_CONFIG_DIR: configDir });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /readable by other users: run chmod 600/);
  });

  it('prints help and version, and refuses unknown commands', async () => {
    const help = await runToEnd(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: allsource serve');
    const version = await runToEnd(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const unknown = await runToEnd(['explode']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "explode"');
  });
});
