import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateMasterKey, MasterKeyError, parseMasterKeyHex, type MasterKey } from './master-key.js';

/**
 * Where the master key comes from. The protectors that wrap it (passphrase, OS keychain,
 * PKCS#11) implement this same interface; the rest of the server only sees a MasterKey.
 */
export interface MasterKeyProtector {
  /** Short, secret-free description for logs: "environment ALLSOURCE_MASTER_KEY", "key file /…". */
  readonly description: string;
  /**
   * Returns the master key. `firstRun` is true when no database exists yet: only then may a
   * protector create a new key, because a new key cannot open an existing database.
   */
  load(options: { firstRun: boolean }): MasterKey;
}

/** `ALLSOURCE_MASTER_KEY`: 64 hex characters, supplied by the environment (CI, containers, tests). */
export function environmentProtector(hex: string): MasterKeyProtector {
  return {
    description: 'environment ALLSOURCE_MASTER_KEY',
    load: () => parseMasterKeyHex(hex, 'ALLSOURCE_MASTER_KEY'),
  };
}

/**
 * A 0600 file holding the key as hex, kept in the config folder and never in the data
 * directory, so that copying the data directory does not copy its key.
 */
export function keyFileProtector(path: string): MasterKeyProtector {
  return {
    description: `key file ${path}`,
    load({ firstRun }) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw new MasterKeyError(`master key file ${path} cannot be read (${code ?? 'error'})`);
        if (!firstRun) {
          throw new MasterKeyError(
            `the database exists but its master key file ${path} is missing: restore it, or set ALLSOURCE_MASTER_KEY`,
          );
        }
        return createKeyFile(path);
      }
      if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
        throw new MasterKeyError(`master key file ${path} is readable by other users: run chmod 600 on it`);
      }
      return parseMasterKeyHex(text, `master key file ${path}`);
    },
  };
}

function createKeyFile(path: string): MasterKey {
  const key = generateMasterKey();
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' fails if another process created the file meanwhile, rather than overwriting its key.
    writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new MasterKeyError(`cannot create the master key file ${path} (${code})`);
  }
  return key;
}

/** The environment wins when set; otherwise the key file. */
export function selectProtector(env: NodeJS.ProcessEnv, keyFile: string): MasterKeyProtector {
  const hex = env['ALLSOURCE_MASTER_KEY'];
  return hex ? environmentProtector(hex) : keyFileProtector(keyFile);
}
