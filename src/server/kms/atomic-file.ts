import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Makes a rename or unlink in `dir` durable. Windows cannot open a directory for fsync; there the
 * rename itself is what NTFS journals, so skipping is the best that can be done.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // See above: not supported on this platform.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old file or the new one, never a
 * mix: write a temp file in the same directory, fsync it, rename it over the target, fsync the
 * directory. The file is created with `mode` (0600 by default) before any byte is written.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(dir);
}

/** Renames durably: the rename, then an fsync of the directory. */
export function renameDurably(from: string, to: string): void {
  renameSync(from, to);
  fsyncDirectory(dirname(to));
}

/**
 * Overwrites a file that held key material with random bytes, syncs, then unlinks it. On
 * copy-on-write or journaling file systems and SSDs the old blocks may survive; this is the best
 * a program can do, and it still beats leaving the key in a plain unlinked file.
 */
export function shredFile(path: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, randomBytes(Math.max(size, 64)), 0, Math.max(size, 64), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  fsyncDirectory(dirname(path));
}

/**
 * Reads a file that holds a secret: undefined when it does not exist, and refused when other users
 * may read it (a key anyone on the machine can copy protects nothing). `what` names it in errors.
 */
export function readPrivateFile(path: string, what: string, fail: (message: string) => Error): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw fail(`${what} ${path} cannot be read (${code ?? 'error'})`);
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw fail(`${what} ${path} is readable by other users: run chmod 600 on it`);
  }
  return text;
}
