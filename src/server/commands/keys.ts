import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';
import {
  acquireDataDirLock,
  databaseExists,
  databaseFile,
  DataDirInUseError,
  openEncryptedFile,
  prepareDataDir,
} from '../db/index.js';
import { DomainError } from '../errors/index.js';
import {
  changePassphrase,
  createKeyFile,
  deriveKey,
  environmentProtector,
  generateMasterKey,
  keyFileProtector,
  MasterKeyError,
  passphraseProtector,
  selectProtector,
  shredFile,
  writePassphraseFile,
  type MasterKey,
  type MasterKeyProtector,
} from '../kms/index.js';
import { rotateMasterKey, ROTATION_STEPS, type RotationStep } from '../kms/rotation/index.js';
import { currentPassphrase, newPassphrase, type Secrets } from './secrets.js';

/** A `keys` command was used the wrong way; one line for a person. */
export class KeysCommandError extends DomainError {
  readonly code = 'keys_command_failed';
}

export interface KeysContext {
  config: Config;
  env: NodeJS.ProcessEnv;
  secrets: Secrets;
  out: (line: string) => void;
  err: (line: string) => void;
}

function describeKind(protector: MasterKeyProtector): string {
  return protector.kind ?? 'custom';
}

/** `allsource keys status`: which protector, whether its key and the database exist. No secrets. */
export function keysStatus({ config, env, out }: KeysContext): number {
  const protector = selectProtector(env, config);
  const inUse = (() => {
    if (!existsSync(config.dataDir)) return 'no';
    try {
      acquireDataDirLock(config.dataDir).release();
      return 'no';
    } catch (error) {
      if (error instanceof DataDirInUseError)
        return 'yes (a server or another allsource command holds the data directory)';
      throw error;
    }
  })();
  const pending = protector.pending?.exists() ?? false;
  out(`protector:  ${describeKind(protector)} (${protector.description})`);
  out(`key stored: ${protector.exists?.() === false ? 'no (made on the first start)' : 'yes'}`);
  out(`database:   ${databaseFile(config.dataDir)} (${databaseExists(config.dataDir) ? 'exists' : 'not created yet'})`);
  out(`rotation:   ${pending ? 'interrupted: the next start finishes or rolls it back' : 'none pending'}`);
  out(`in use:     ${inUse}`);
  return 0;
}

function checkOpens(config: Config, key: MasterKey): void {
  if (!databaseExists(config.dataDir)) return;
  const dbKey = deriveKey(key, 'allsource/sqlcipher');
  try {
    openEncryptedFile(databaseFile(config.dataDir), dbKey).close();
  } finally {
    dbKey.fill(0);
  }
}

function refuseInterruptedRotation(protector: MasterKeyProtector): void {
  if (protector.pending?.exists()) {
    throw new KeysCommandError(
      `a master-key rotation was interrupted (${protector.pending.description}): start the server once (it finishes or rolls back the rotation), then run this again`,
    );
  }
}

/**
 * `allsource keys protect --with passphrase|file`: moves the master key to another protector.
 * The key comes from ALLSOURCE_MASTER_KEY, the key file or the passphrase file (whichever holds
 * it), or is made new when there is no database yet. It is checked against the database before
 * anything is written; the old key file is overwritten and removed only after the new one reads back.
 */
export async function keysProtect(context: KeysContext, target: string | undefined): Promise<number> {
  const { config, env, secrets, out } = context;
  if (target !== 'passphrase' && target !== 'file') {
    throw new KeysCommandError('keys protect needs --with passphrase or --with file');
  }
  prepareDataDir(config.dataDir);
  const lock = acquireDataDirLock(config.dataDir);
  let key: MasterKey | undefined;
  try {
    const toPassphrase = passphraseProtector(config.passphraseFile);
    const toFile = keyFileProtector(config.keyFile);
    if (target === 'passphrase' && toPassphrase.exists()) {
      throw new KeysCommandError(
        `the master key is already protected by ${toPassphrase.description}: use "allsource keys change-passphrase" to change the passphrase`,
      );
    }
    if (target === 'file' && existsSync(config.keyFile)) {
      throw new KeysCommandError(`the master key file ${config.keyFile} already exists`);
    }
    const hex = env['ALLSOURCE_MASTER_KEY'];
    const source: MasterKeyProtector | undefined = hex
      ? environmentProtector(hex)
      : existsSync(config.keyFile)
        ? toFile
        : toPassphrase.exists()
          ? toPassphrase
          : undefined;
    const firstRun = !databaseExists(config.dataDir);
    if (source === undefined && !firstRun) {
      throw new MasterKeyError(
        `the database exists but no master key was found (no ALLSOURCE_MASTER_KEY, no ${config.keyFile}, no ${config.passphraseFile})`,
      );
    }
    if (source) refuseInterruptedRotation(source);
    if (source === undefined) key = generateMasterKey();
    else if (source.needsSecret) key = await source.load({ firstRun, secret: await currentPassphrase(secrets) });
    else key = await source.load({ firstRun: false });
    checkOpens(config, key);

    if (target === 'passphrase') {
      const passphrase = await newPassphrase(
        secrets.newPassphrase ?? (source?.needsSecret ? undefined : secrets.passphrase),
      );
      await writePassphraseFile(config.passphraseFile, key, passphrase);
      // Read it back before the old copy goes: a file that does not give the key back must not replace it.
      const check = await toPassphrase.load({ firstRun: false, secret: passphrase });
      const same = check.equals(key);
      check.fill(0);
      if (!same)
        throw new MasterKeyError(`${config.passphraseFile} did not read back the same key; the key file was kept`);
      out(`the master key is now protected by a passphrase: ${config.passphraseFile}`);
    } else {
      createKeyFile(config.keyFile, Buffer.from(key) as MasterKey);
      out(`the master key is now in the key file ${config.keyFile}`);
    }
    if (source?.kind === 'file' || source?.kind === 'passphrase') {
      const old = source.kind === 'file' ? config.keyFile : config.passphraseFile;
      shredFile(old);
      out(`the old ${source.kind === 'file' ? 'key file' : 'passphrase file'} ${old} was overwritten and removed`);
    }
    if (source?.kind === 'env') out('unset ALLSOURCE_MASTER_KEY: while it is set, it wins over every other protector');
    if (config.keyProtector !== undefined && config.keyProtector !== target) {
      out(`your configuration sets key_protector "${config.keyProtector}": change it to "${target}"`);
    }
    if (source === undefined) out('a new master key was made: the first start creates the database with it');
    return 0;
  } finally {
    key?.fill(0);
    lock.release();
  }
}

/** `allsource keys change-passphrase`: rewraps the master key under a new passphrase; the database is untouched. */
export async function keysChangePassphrase(context: KeysContext): Promise<number> {
  const { config, env, secrets, out } = context;
  const protector = selectProtector(env, config);
  if (protector.kind !== 'passphrase') {
    throw new KeysCommandError(
      `the master key is not protected by a passphrase (it uses the ${protector.description}): run "allsource keys protect --with passphrase" first`,
    );
  }
  if (!protector.exists?.()) throw new KeysCommandError(`there is no passphrase file at ${config.passphraseFile}`);
  refuseInterruptedRotation(protector);
  const old = await currentPassphrase(secrets, 'Current passphrase: ');
  const next = await newPassphrase(secrets.newPassphrase);
  await changePassphrase(config.passphraseFile, old, next);
  out(
    `the passphrase was changed: the master key was rewrapped in ${config.passphraseFile}; the database was not touched`,
  );
  return 0;
}

/** A crash point for the rotation tests: honoured only under vitest, never in a real run. */
function testCrashHook(env: NodeJS.ProcessEnv): ((step: RotationStep) => void) | undefined {
  const at = env['ALLSOURCE_TEST_CRASH_AT'];
  if (!env['VITEST'] || !at || !(ROTATION_STEPS as readonly string[]).includes(at)) return undefined;
  return (step) => {
    if (step === at) process.kill(process.pid, 'SIGKILL');
  };
}

/** `allsource keys rotate-master`: a new master key, the database re-keyed, progress on stderr. */
export async function keysRotateMaster(context: KeysContext): Promise<number> {
  const { config, env, secrets, out, err } = context;
  const protector = selectProtector(env, config);
  if (!databaseExists(config.dataDir))
    throw new KeysCommandError(`there is no database at ${databaseFile(config.dataDir)} yet`);
  const lock = acquireDataDirLock(config.dataDir);
  try {
    const secret = protector.needsSecret ? await currentPassphrase(secrets) : undefined;
    const chunk = env['VITEST'] ? Number(env['ALLSOURCE_TEST_REKEY_CHUNK_ROWS']) || undefined : undefined;
    let lastPercent = -1;
    const reached = testCrashHook(env);
    err(
      `rotate-master: re-keying ${databaseFile(config.dataDir)}; safe to interrupt, the next start finishes or rolls back`,
    );
    const report = await rotateMasterKey({
      dataDir: config.dataDir,
      protector,
      durability: config.durability,
      ...(secret === undefined ? {} : { secret }),
      ...(chunk === undefined ? {} : { chunkRows: chunk }),
      ...(reached === undefined ? {} : { reached }),
      log: (message) => err(`rotate-master: ${message}`),
      onProgress: ({ done, total, table }) => {
        const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
        if (percent === lastPercent) return;
        lastPercent = percent;
        err(`rotate-master: ${done}/${total} rows (${percent}%), table ${table}`);
      },
    });
    out(
      `the master key was rotated: ${report.rows} rows in ${report.tables} tables re-encrypted, ` +
        `${report.keyVersions} keyring key versions re-wrapped, ${protector.description} updated`,
    );
    out(
      env['ALLSOURCE_JWT_SECRET']
        ? 'sign-in tokens stay valid: they are signed with ALLSOURCE_JWT_SECRET, not a key derived from the master key'
        : 'sign-in tokens (JWTs) issued before are no longer valid: users sign in again (API keys keep working)',
    );
    return 0;
  } finally {
    lock.release();
  }
}
