import { DomainError } from '../../errors/index.js';
import type { SqliteDatabase } from '../open.js';
import { eventStoreMigration } from './001-event-store.js';
import { identityMigration } from './002-identity.js';
import { keyringMigration } from './003-keyring.js';
import { fieldEncryptionMigration } from './004-field-encryption.js';
import { protectionMigration } from './005-protection.js';
import { auditMigration } from './006-audit.js';
import { anomaliesMigration } from './007-anomalies.js';
import { auditPositionsMigration } from './008-audit-positions.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

export const migrations: readonly Migration[] = [
  eventStoreMigration,
  identityMigration,
  keyringMigration,
  fieldEncryptionMigration,
  protectionMigration,
  auditMigration,
  anomaliesMigration,
  auditPositionsMigration,
];

export class SchemaTooNewError extends DomainError {
  readonly code = 'schema_too_new';
}

/** Brings the schema up to date, each migration in its own transaction. */
export function migrate(db: SqliteDatabase, all: readonly Migration[] = migrations): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = all.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new SchemaTooNewError(
      `the database schema is version ${current}, newer than this program knows (${latest}): upgrade AllSource`,
    );
  }
  for (const migration of all) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
