import sqlcipher from '@journeyapps/sqlcipher';
import { CIPHER_PAGE_SIZE } from '../../src/server/db/index.js';

/** Zetetic's SQLCipher 4 (node-sqlite3 style callbacks), as promises: the outside reader of our files. */

export function openZetetic(file: string, mode = sqlcipher.OPEN_READONLY): Promise<sqlcipher.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlcipher.Database(file, mode, (error) => (error ? reject(error) : resolve(db)));
  });
}

export function exec(db: sqlcipher.Database, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
}

export function all<T>(db: sqlcipher.Database, sql: string): Promise<T[]> {
  return new Promise((resolve, reject) => db.all(sql, (error, rows) => (error ? reject(error) : resolve(rows as T[]))));
}

export function closeZetetic(db: sqlcipher.Database): Promise<void> {
  return new Promise((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
}

/** Opens the file with Zetetic's SQLCipher and the raw key, as DESIGN.md says an outside tool must. */
export async function openWithKey(
  file: string,
  keyHex: string,
  pageSize = CIPHER_PAGE_SIZE,
): Promise<sqlcipher.Database> {
  const db = await openZetetic(file);
  // A wrong key is expected in some tests; keep SQLCipher's own HMAC-failure log off stderr.
  await exec(db, 'PRAGMA cipher_log_level = NONE;');
  await exec(db, `PRAGMA key = "x'${keyHex}'";`);
  await exec(db, `PRAGMA cipher_page_size = ${pageSize};`);
  return db;
}
