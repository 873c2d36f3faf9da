import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp, type App } from '../../src/server/app.js';
import { loadConfig, type Config } from '../../src/server/config/index.js';
import { deriveKey, parseMasterKeyHex } from '../../src/server/kms/index.js';

export interface TestServer {
  url: string;
  port: number;
  app: App;
  dataDir: string;
  /** The master key, as the ALLSOURCE_MASTER_KEY hex the server was given. */
  masterKeyHex: string;
  /** The SQLCipher key derived from it, as hex (what Zetetic's SQLCipher needs). */
  databaseKeyHex: string;
  config: Config;
  close(): Promise<void>;
  /** Closes the server and deletes its temp directory. */
  dispose(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  masterKeyHex?: string;
  env?: Record<string, string>;
  now?: () => number;
}

export function tempDir(prefix = 'allsource-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The real server, on an ephemeral loopback port, over a real encrypted file in a temp directory. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const masterKeyHex = options.masterKeyHex ?? randomBytes(32).toString('hex');
  const env = {
    ALLSOURCE_MASTER_KEY: masterKeyHex,
    ALLSOURCE_CONFIG_DIR: join(dataDir, '..', `${dataDir.split('/').pop()}-config`),
    ALLSOURCE_LOG_LEVEL: 'silent',
    ...options.env,
  };
  const config = loadConfig({ flags: { port: '0', dataDir }, env });
  const app = createApp(config, {
    env,
    logger: pino({ level: 'silent' }),
    ...(options.now ? { now: options.now } : {}),
  });
  const { url, port } = await app.listen();
  const databaseKeyHex = deriveKey(parseMasterKeyHex(masterKeyHex, 'test'), 'allsource/sqlcipher').toString('hex');
  const close = () => app.close();
  return {
    url,
    port,
    app,
    dataDir,
    masterKeyHex,
    databaseKeyHex,
    config,
    close,
    async dispose() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** fetch + JSON, keeping the status and headers for assertions. */
export async function api(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
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
