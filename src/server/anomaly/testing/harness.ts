import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../db/index.js';
import type { DerivedKey } from '../../kms/index.js';
import type { AuditLog, AuditRecord } from '../audit-types.js';
import type { AnomalyConfigInput } from '../config.js';
import type { AccessControl } from '../enforcement.js';
import { createAnomalyEngine, type AnomalyEngine } from '../engine.js';
import { T0 } from './records.js';

/** Test support: the engine over a real encrypted, migrated database, with a pinned clock. */
export interface EngineHarness {
  db: SqliteDatabase;
  engine: AnomalyEngine;
  /** What enforcement recorded through the audit log. */
  system: Array<Parameters<AuditLog['recordSystem']>[0]>;
  /** Calls made to the access port (when the fake one is used). */
  accessCalls: string[];
  setNow(ms: number): void;
  /** A new engine over the same database: a restart. */
  restart(config?: AnomalyConfigInput): AnomalyEngine;
  close(): void;
}

export function createEngineHarness(
  config: AnomalyConfigInput = {},
  options: { access?: AccessControl; db?: SqliteDatabase } = {},
): EngineHarness {
  const dir = mkdtempSync(join(tmpdir(), 'anomaly-'));
  const db =
    options.db ??
    openDatabase({ dataDir: join(dir, 'data'), key: randomBytes(32) as DerivedKey, durability: 'normal' }).db;
  let now = T0;
  const system: EngineHarness['system'] = [];
  const accessCalls: string[] = [];
  let seq = 0;
  const audit: AuditLog = {
    onRecorded: () => () => undefined,
    recordSystem(entry) {
      system.push(entry);
      seq += 1;
      const record: AuditRecord = {
        id: `sys-${seq}`,
        seq,
        tenant_id: entry.tenantId,
        timestamp: new Date(now).toISOString(),
        action: entry.action,
        actor: { type: 'system', id: null, ip: null },
        outcome: entry.outcome,
        resource: entry.resource ?? null,
        request_id: null,
        metadata: entry.metadata ?? {},
      };
      return record;
    },
  };
  const access: AccessControl = options.access ?? {
    revokeApiKeyReversibly: (tenantId, keyId) => (accessCalls.push(`revoke ${tenantId}/${keyId}`), now),
    reinstateApiKey: (tenantId, keyId) => (accessCalls.push(`reinstate ${tenantId}/${keyId}`), true),
    endSessions: (tenantId, userId) => void accessCalls.push(`end-sessions ${tenantId}/${userId}`),
  };
  const build = (more: AnomalyConfigInput = {}) =>
    createAnomalyEngine({
      db,
      audit,
      access,
      now: () => now,
      config: { ...config, ...more },
      onError: (error) => {
        throw error;
      },
    });
  let engine = build();
  return {
    db,
    get engine() {
      return engine;
    },
    system,
    accessCalls,
    setNow(ms) {
      now = ms;
    },
    restart(more) {
      engine.close();
      engine = build(more);
      return engine;
    },
    close() {
      engine.close();
      if (!options.db) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
