import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { registerAdminKey } from './server.js';

/** The repository root, the child's working directory (so `tsx` and `src/` resolve). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Everything the child wrote so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code and signal once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ChildServerOptions {
  dataDir: string;
  /** ALLSOURCE_BOOTSTRAP_API_KEY for the child; `api()` then sends it to this server. */
  apiKey?: string;
  configDir: string;
  /** Absent: the server uses (and on first run creates) the key file in configDir. */
  masterKeyHex?: string;
  env?: Record<string, string>;
  /** How long to wait for the "listening on" line. */
  startTimeoutMs?: number;
}

export function randomMasterKeyHex(): string {
  return randomBytes(32).toString('hex');
}

const LISTENING = /AllSource \S+ listening on (http:\/\/127\.0\.0\.1:\d+) /;

/** The child gets only what it is given, never this process's ALLSOURCE_* settings. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('ALLSOURCE_')) env[name] = value;
  }
  // The dev_mode tier: these servers take thousands of requests a second from one tenant (see server.ts).
  return { ...env, ALLSOURCE_LOG_LEVEL: 'silent', ALLSOURCE_RATE_LIMIT_TIER: 'dev_mode', ...extra };
}

export interface RunningCli {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: ChildServer['exited'];
}

/** Runs the `allsource` command with `args` (src/server/bin.ts under tsx), as a user would run it. */
export function runCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/bin.ts', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs the command to its end. */
export async function runToEnd(args: string[], env: Record<string, string> = {}) {
  const { output, exited } = runCli(args, env);
  const { code, signal } = await exited;
  return { code: code ?? signal, ...output() };
}

/** Runs `allsource serve` on a free port, with the options' data directory, key and config folder. */
export function runServerProcess(options: ChildServerOptions, args: string[] = []): RunningCli {
  return runCli(['serve', '--port', '0', '--data-dir', options.dataDir, ...args], {
    ...(options.masterKeyHex === undefined ? {} : { ALLSOURCE_MASTER_KEY: options.masterKeyHex }),
    ALLSOURCE_CONFIG_DIR: options.configDir,
    ...(options.apiKey === undefined ? {} : { ALLSOURCE_BOOTSTRAP_API_KEY: options.apiKey }),
    ...options.env,
  });
}

/** Starts the server as a child process and resolves once it says where it listens. */
export async function startServerProcess(options: ChildServerOptions, args: string[] = []): Promise<ChildServer> {
  const started = runServerProcess(options, args);
  const { child, output, exited } = started;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${timeoutMs} ms; stderr: ${output().stderr}`));
    }, timeoutMs);
    const onData = () => {
      const match = LISTENING.exec(output().stdout);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`the server exited (code ${code}, signal ${signal}) before listening; stderr: ${output().stderr}`),
      );
    });
  });
  if (options.apiKey !== undefined) registerAdminKey(url, options.apiKey);
  return { url, child, output, exited };
}

/** Stops a child server: SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stopServerProcess(server: ChildServer | undefined, graceMs = 15_000): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}
