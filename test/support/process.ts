import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/** Runs `allsource <args>` from the sources (through tsx), as a user would run the built command. */
export function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ALLSOURCE_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess) {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the command to completion. */
export async function runToEnd(args: string[], env: Record<string, string> = {}) {
  const child = runCli(args, env);
  const output = collect(child);
  const code = await output.exited;
  return { code, stdout: output.stdout(), stderr: output.stderr() };
}

/** Starts `allsource serve` and resolves once it prints the address it listens on. */
export async function startServerProcess(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = runCli(['serve', '--port', '0', ...args], env);
  const output = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output.stdout());
      if (match) {
        child.stdout?.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout?.on('data', onData);
    void output.exited.then((code) =>
      reject(new Error(`server exited (${code}) before listening: ${output.stderr()}`)),
    );
  });
  return { child, url, ...output };
}
