export {
  CIPHER_PAGE_SIZE,
  DATABASE_FILE,
  databaseExists,
  databaseFile,
  openDatabase,
  openEncryptedFile,
  prepareDataDir,
  StorageUnavailableError,
  WrongKeyError,
} from './open.js';
export type { OpenDatabaseOptions, OpenedDatabase, SqliteDatabase, SqliteStatement } from './open.js';
export { migrate, migrations, SchemaTooNewError } from './migrations/index.js';
export type { Migration } from './migrations/index.js';
export { acquireDataDirLock, DataDirInUseError, LOCK_FILE } from './lock.js';
export type { DataDirLock } from './lock.js';
