import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type App } from '../../src/server/app.js';
import { loadConfig, type Config } from '../../src/server/config/index.js';
import { generateApiKey } from '../../src/server/identity/index.js';
import { deriveKey, parseMasterKeyHex, writePassphraseFile, type KdfParams } from '../../src/server/kms/index.js';
import type { UnlockGateOptions } from '../../src/server/locked/index.js';

/** argon2id at its cheapest allowed cost: the server reads the cost from the file, so tests unlock fast. */
export const FAST_KDF: KdfParams = { memoryKib: 8192, iterations: 1, parallelism: 1 };

/**
 * The admin API key each test server was bootstrapped with, by base URL: `api()` and the SSE and
 * WebSocket helpers send it unless a request brings its own credential or asks to be anonymous.
 */
const adminKeys = new Map<string, string>();

export function registerAdminKey(baseUrl: string, apiKey: string): void {
  adminKeys.set(new URL(baseUrl).origin, apiKey);
}

/** The bootstrap admin key of the server at `url`, as an X-API-Key header (none for unknown servers). */
export function adminHeaders(url: string): Record<string, string> {
  const key = adminKeys.get(new URL(url).origin);
  return key ? { 'x-api-key': key } : {};
}

export function newApiKey(): string {
  return generateApiKey(randomBytes);
}

export interface TestServer {
  url: string;
  port: number;
  app: App;
  dataDir: string;
  /** The master key, as the ALLSOURCE_MASTER_KEY hex the server was given. */
  masterKeyHex: string;
  /** The SQLCipher key derived from it, as hex (what Zetetic's SQLCipher needs). */
  databaseKeyHex: string;
  /** ALLSOURCE_BOOTSTRAP_API_KEY: an admin key of the platform tenant `default`. */
  apiKey: string;
  config: Config;
  close(): Promise<void>;
  /** Closes the server and deletes its temp directory. */
  dispose(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  masterKeyHex?: string;
  /** The bootstrap admin key; a new one by default (pass the old one when reopening a data dir). */
  apiKey?: string;
  env?: Record<string, string>;
  now?: () => number;
  /**
   * Protects the master key with this passphrase instead of ALLSOURCE_MASTER_KEY: a passphrase
   * file (FAST_KDF) in the config folder, written on the first start from `masterKeyHex`.
   */
  passphrase?: string;
  /** With `passphrase`: give the server no passphrase, so it starts locked. */
  locked?: boolean;
  unlockGate?: UnlockGateOptions;
}

export function configDirOf(dataDir: string): string {
  return join(dataDir, '..', `${dataDir.split('/').pop()}-config`);
}

export function passphraseFileOf(dataDir: string): string {
  return join(configDirOf(dataDir), 'master-key.passphrase.json');
}

export function tempDir(prefix = 'allsource-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The real server, on an ephemeral loopback port, over a real encrypted file in a temp directory. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const masterKeyHex = options.masterKeyHex ?? randomBytes(32).toString('hex');
  const apiKey = options.apiKey ?? newApiKey();
  const passphrase = options.passphrase;
  if (passphrase !== undefined && !existsSync(passphraseFileOf(dataDir))) {
    await writePassphraseFile(passphraseFileOf(dataDir), parseMasterKeyHex(masterKeyHex, 'test'), passphrase, FAST_KDF);
  }
  const env: Record<string, string> = {
    ...(passphrase === undefined ? { ALLSOURCE_MASTER_KEY: masterKeyHex } : { ALLSOURCE_KEY_PROTECTOR: 'passphrase' }),
    ALLSOURCE_BOOTSTRAP_API_KEY: apiKey,
    ALLSOURCE_CONFIG_DIR: configDirOf(dataDir),
    ALLSOURCE_LOG_LEVEL: 'silent',
    // Test servers send thousands of requests a second from one tenant and one address: the
    // dev_mode tier (100,000 a minute) keeps the default one (600) from refusing them, while
    // every request still passes the limiter. Protection tests set their own.
    ALLSOURCE_RATE_LIMIT_TIER: 'dev_mode',
    ...options.env,
  };
  const config = loadConfig({ flags: { port: '0', dataDir }, env });
  const app = createApp(config, {
    env,
    logger: pino({ level: 'silent' }),
    ...(options.now ? { now: options.now } : {}),
    ...(passphrase !== undefined && !options.locked ? { passphrase } : {}),
    ...(options.unlockGate ? { unlockGate: options.unlockGate } : {}),
  });
  let listened;
  try {
    listened = await app.listen();
  } catch (error) {
    await app.close();
    throw error;
  }
  const { url, port } = listened;
  registerAdminKey(url, apiKey);
  const databaseKeyHex = deriveKey(parseMasterKeyHex(masterKeyHex, 'test'), 'allsource/sqlcipher').toString('hex');
  const close = () => app.close();
  return {
    url,
    port,
    app,
    dataDir,
    masterKeyHex,
    databaseKeyHex,
    apiKey,
    config,
    close,
    async dispose() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * fetch + JSON, keeping the status and headers for assertions. Sends the server's admin key
 * unless the request carries its own credential or `anonymous` is set.
 */
export async function api(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown; anonymous?: boolean } = {},
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const { json, anonymous, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (!anonymous && !headers.has('authorization') && !headers.has('x-api-key')) {
    for (const [name, value] of Object.entries(adminHeaders(base))) headers.set(name, value);
  }
  if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await fetch(`${base}${path}`, {
    ...rest,
    headers,
    ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body, headers: response.headers, text };
}
