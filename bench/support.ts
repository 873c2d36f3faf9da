import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * Everything a run creates outside itself: temp dirs and child processes. The bench must
 * leave neither behind, whether a step throws, the user presses Ctrl-C, or a target is missed.
 */
export interface Resources {
  tempDir(prefix: string): string;
  /** Registers a child so that dispose() (and process exit) stops it. */
  track(child: ChildProcess): void;
  /** Stops the child (SIGTERM, then SIGKILL after `graceMs`) and forgets it. */
  stop(child: ChildProcess, graceMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function createResources(): Resources {
  const dirs = new Set<string>();
  const children = new Set<ChildProcess>();

  // Last resort when the process exits without dispose(): only synchronous work is possible here.
  const onExit = (): void => {
    for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  async function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
    if (isRunning(child)) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  }

  return {
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), `allsource-bench-${prefix}-`));
      dirs.add(dir);
      return dir;
    },
    track(child) {
      children.add(child);
    },
    stop,
    async dispose() {
      await Promise.all([...children].map((child) => stop(child)));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      dirs.clear();
      process.off('exit', onExit);
    },
  };
}

/** The value at quantile `q` (0..1) of ascending `sorted` values, nearest-rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
}

export function summarise(latenciesMs: number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { samples: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.now();
}

function rejectAfter(ms: number, message: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Runs `step`, rejecting if it takes longer than `ms`. */
export async function withTimeout<T>(ms: number, what: string, step: Promise<T>): Promise<T> {
  const timeout = rejectAfter(ms, `${what} took longer than ${ms / 1000} s`);
  try {
    return await Promise.race([step, timeout.promise]);
  } finally {
    timeout.cancel();
  }
}

/** Progress goes to stderr so that stdout carries only the table. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
