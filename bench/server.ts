import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, withTimeout, type Resources } from './support.js';

/** The real `allsource serve`, in its own process, over a fresh encrypted file. */
export interface ServerProcess {
  url: string;
  pid: number;
  dataDir: string;
  /** The ALLSOURCE_MASTER_KEY it was given, so the bench can open the same file read-only. */
  masterKeyHex: string;
  stop(): Promise<void>;
}

const LISTENING = /listening on (http:\/\/\S+)/;
const STDERR_KEPT = 4_000;

function spawnServer(dataDir: string, configDir: string, masterKeyHex: string): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', 'src/server/bin.ts', 'serve', '--port', '0', '--data-dir', dataDir],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ALLSOURCE_MASTER_KEY: masterKeyHex,
        ALLSOURCE_CONFIG_DIR: configDir,
        // Request logs would cost the server time the figures should not include.
        ALLSOURCE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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

export async function startServer(resources: Resources): Promise<ServerProcess> {
  const root = resources.tempDir('server');
  // Sibling folders: the config check refuses a key file inside the data directory.
  const dataDir = join(root, 'data');
  const masterKeyHex = randomBytes(32).toString('hex');
  const child = spawnServer(dataDir, join(root, 'config'), masterKeyHex);
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
    return { url, pid: child.pid!, dataDir, masterKeyHex, stop: () => resources.stop(child) };
  } catch (error) {
    await resources.stop(child);
    throw error;
  }
}
