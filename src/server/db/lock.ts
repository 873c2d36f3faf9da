import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { DomainError } from '../errors/index.js';

export const LOCK_FILE = 'allsource.lock';

/** Another process (a server, locked or not, or an `allsource keys` command) uses this data directory. */
export class DataDirInUseError extends DomainError {
  readonly code = 'data_dir_in_use';
}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the data directory for this process: an exclusive SQLite lock on a small, plain (not
 * encrypted, it holds nothing) lock file, held until `release()` or process exit. SQLite's lock is
 * an OS file lock (fcntl / LockFileEx), so the kernel drops it when a process dies, even by
 * SIGKILL: there is no stale lock to clean up and no PID to trust. It also works between two
 * connections in one process. Why not the database itself: a server in WAL mode holds only shared
 * locks on it, which cannot tell a rotation apart from another reader.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db?.close();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new DataDirInUseError(
        `the data directory ${dataDir} is in use by another AllSource process (a running server, or an "allsource keys" command): stop it first`,
      );
    }
    throw new DataDirInUseError(`cannot lock the data directory ${dataDir} (${code ?? 'error'})`);
  }
  const held = db;
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      held.close();
    },
  };
}
