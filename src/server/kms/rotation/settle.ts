import { existsSync, rmSync } from 'node:fs';
import { databaseFile, openEncryptedFile, WrongKeyError } from '../../db/index.js';
import { deriveKey, type MasterKey } from '../master-key.js';
import type { LoadOptions, MasterKeyProtector } from '../protectors.js';

type MaybePromise<T> = T | Promise<T>;

function then<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** The files a rotation writes next to the database: the copy in progress, and the finished copy. */
export function rotationFiles(dataDir: string): { partial: string; complete: string } {
  const db = databaseFile(dataDir);
  return { partial: `${db}.rekey-partial`, complete: `${db}.rekey` };
}

export function removeRotationLeftovers(dataDir: string): boolean {
  let removed = false;
  for (const file of Object.values(rotationFiles(dataDir))) {
    for (const suffix of ['', '-journal', '-wal', '-shm']) {
      if (existsSync(file + suffix)) {
        rmSync(file + suffix, { force: true });
        removed = true;
      }
    }
  }
  return removed;
}

function opens(file: string, masterKey: MasterKey): boolean {
  const key = deriveKey(masterKey, 'allsource/sqlcipher');
  try {
    openEncryptedFile(file, key).close();
    return true;
  } catch (error) {
    if (error instanceof WrongKeyError) return false;
    throw error;
  } finally {
    key.fill(0);
  }
}

export type SettleOutcome = 'none' | 'rolled_back' | 'completed';

/**
 * Finishes or undoes a master-key rotation that was interrupted, deciding only from what is on
 * disk. A pending key exists from the moment the rotation staged it until it committed it; the
 * database file is swapped (one rename) in between. So: if the current key still opens the
 * database, the swap never happened and the rotation is rolled back (copy and pending key
 * removed); if only the pending key opens it, the swap happened and the pending key is committed.
 * Returns the key that opens the database and zeroes the other.
 */
export function settleRotation(options: {
  dataDir: string;
  protector: MasterKeyProtector;
  current: MasterKey;
  pending: MasterKey | undefined;
  log: (message: string) => void;
}): { key: MasterKey; outcome: SettleOutcome } {
  const { dataDir, protector, current, pending, log } = options;
  const slot = protector.pending;
  const file = databaseFile(dataDir);
  if (pending === undefined || slot === undefined) {
    if (removeRotationLeftovers(dataDir)) log('removed the files of an unfinished master-key rotation');
    return { key: current, outcome: 'none' };
  }
  if (!existsSync(file) || opens(file, current)) {
    // Leftovers first, then the pending key: a crash in between repeats this same decision.
    removeRotationLeftovers(dataDir);
    slot.discard();
    pending.fill(0);
    log('an interrupted master-key rotation was rolled back: the database still uses the previous master key');
    return { key: current, outcome: 'rolled_back' };
  }
  if (opens(file, pending)) {
    slot.commit();
    removeRotationLeftovers(dataDir);
    current.fill(0);
    log('an interrupted master-key rotation was completed: the database now uses the new master key');
    return { key: pending, outcome: 'completed' };
  }
  pending.fill(0);
  current.fill(0);
  throw new WrongKeyError(
    `neither the master key nor the one staged by an interrupted rotation opens ${file} (no file was changed)`,
  );
}

/**
 * Loads the master key from `protector` and settles any interrupted rotation first, so the key
 * returned always opens the database. Synchronous when the protector is (key file, environment),
 * so a server with such a protector still opens its database inside createApp.
 */
export function obtainMasterKey(
  protector: MasterKeyProtector,
  options: LoadOptions & { dataDir: string; log: (message: string) => void },
): MaybePromise<MasterKey> {
  const { dataDir, log, ...load } = options;
  return then(protector.load(load), (current) => {
    const slot = protector.pending;
    if (slot === undefined || !slot.exists()) {
      return settleRotation({ dataDir, protector, current, pending: undefined, log }).key;
    }
    let pending: MaybePromise<MasterKey>;
    try {
      pending = slot.load(load.secret);
    } catch (error) {
      current.fill(0);
      throw error;
    }
    if (pending instanceof Promise) {
      pending = pending.catch((error: unknown) => {
        current.fill(0);
        throw error;
      });
    }
    return then(pending, (staged) => settleRotation({ dataDir, protector, current, pending: staged, log }).key);
  });
}
