import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateApiKey } from '../src/server/identity/index.js';
import { REPO_ROOT, withTimeout, type Resources } from './support.js';

/** The real `allsource serve`, in its own process, over a fresh encrypted file. */
export interface ServerProcess {
  url: string;
  pid: number;
  dataDir: string;
  /** The ALLSOURCE_MASTER_KEY it was given, so the bench can open the same file read-only. */
  masterKeyHex: string;
  /** Started with ALLSOURCE_DEV_MODE=true: requests without credentials act as dev-user of dev-tenant. */
  devMode: boolean;
  /** Its ALLSOURCE_BOOTSTRAP_API_KEY: a fresh admin key of the platform tenant `default`. */
  apiKey: string;
  /**
   * The credential headers every bench request to this server carries (only /health, which is
   * public, goes without): `X-API-Key`, or nothing at all for a dev-mode server.
   */
  authHeaders: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** ALLSOURCE_DEV_MODE=true, and no credential on the bench's requests. The key is registered all the same. */
  devMode?: boolean;
  /** ALLSOURCE_PROTECTION=off: the whole protection chain dropped, for its cost figure only. */
  protectionOff?: boolean;
  /** ALLSOURCE_AUDIT=off: no audit records, for the audit cost figure only. */
  auditOff?: boolean;
}

const LISTENING = /listening on (http:\/\/\S+)/;
const STDERR_KEPT = 4_000;

interface ChildSettings {
  dataDir: string;
  configDir: string;
  masterKeyHex: string;
  apiKey: string;
  devMode: boolean;
  protectionOff: boolean;
  auditOff: boolean;
}

/** The server the bench runs, built from the sources in this checkout (as `npm start` builds it). */
const SERVER_ENTRY = 'dist/server/bin.js';
let built = false;

/**
 * Builds the server once per bench process, so that the figures are those of what `npm start`
 * runs: tsc's JavaScript, not the sources through tsx, whose esbuild output names every
 * function expression it creates (a call per closure, on every request).
 */
function buildServerOnce(): void {
  if (built) return;
  const result = spawnSync('npm', ['run', '--silent', 'build:server'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build:server failed (${result.status ?? result.signal})`);
  built = true;
}

function spawnServer(settings: ChildSettings): ChildProcess {
  return spawn(process.execPath, [SERVER_ENTRY, 'serve', '--port', '0', '--data-dir', settings.dataDir], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ALLSOURCE_MASTER_KEY: settings.masterKeyHex,
      ALLSOURCE_CONFIG_DIR: settings.configDir,
      // Request logs would cost the server time the figures should not include.
      ALLSOURCE_LOG_LEVEL: 'warn',
      // Set either way, so that the caller's environment cannot switch authentication off (or on).
      ALLSOURCE_DEV_MODE: settings.devMode ? 'true' : 'false',
      // Registered at start as an admin key of the platform tenant, which the raw reads (reads.ts) query.
      ALLSOURCE_BOOTSTRAP_API_KEY: settings.apiKey,
      ALLSOURCE_BOOTSTRAP_TENANT_ID: 'default',
      // The bench sends thousands of requests a second as one tenant: the dev_mode tier (100,000 a
      // minute, burst 200,000) never refuses them, while every request still passes the limiter.
      ALLSOURCE_RATE_LIMIT_TIER: 'dev_mode',
      ALLSOURCE_PROTECTION: settings.protectionOff ? 'off' : 'on',
      ALLSOURCE_AUDIT: settings.auditOff ? 'off' : 'on',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the URL from the server's "listening on" line; rejects with its stderr if it exits first. */
function waitForListening(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = LISTENING.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`the server exited before listening (${signal ?? `code ${code}`}): ${stderr().trim()}`));
    });
    child.once('error', reject);
  });
}

export async function startServer(resources: Resources, options: StartOptions = {}): Promise<ServerProcess> {
  buildServerOnce();
  const devMode = options.devMode ?? false;
  const root = resources.tempDir(devMode ? 'dev-server' : 'server');
  // Sibling folders: the config check refuses a key file inside the data directory.
  const dataDir = join(root, 'data');
  const masterKeyHex = randomBytes(32).toString('hex');
  const apiKey = generateApiKey(randomBytes);
  const protectionOff = options.protectionOff ?? false;
  const auditOff = options.auditOff ?? false;
  const child = spawnServer({
    dataDir,
    configDir: join(root, 'config'),
    masterKeyHex,
    apiKey,
    devMode,
    protectionOff,
    auditOff,
  });
  resources.track(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEPT);
  });
  try {
    const url = await withTimeout(
      30_000,
      'server start',
      waitForListening(child, () => stderr),
    );
    const authHeaders: Record<string, string> = devMode ? {} : { 'x-api-key': apiKey };
    return {
      url,
      pid: child.pid!,
      dataDir,
      masterKeyHex,
      devMode,
      apiKey,
      authHeaders,
      stop: () => resources.stop(child),
    };
  } catch (error) {
    await resources.stop(child);
    throw error;
  }
}
