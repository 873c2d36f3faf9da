import type { SqliteDatabase } from '../db/index.js';
import type { DerivedKey } from '../kms/index.js';
import { canonicalRecord, chainHash, GENESIS_HASH } from './chain.js';
import { createCheckpointer, toCheckpoint } from './checkpoints.js';
import { AuditUnavailableError } from './errors.js';
import { createAuditQueries } from './query.js';
import { isoOf } from './rows.js';
import { loadSigner } from './signer.js';
import { prepareAuditStatements } from './statements.js';
import { createTenantNumbers } from './tenant-numbers.js';
import { createEventIdGenerator, uuidText } from '../store/index.js';
import type { AuditContext, AuditEntry, AuditJob, AuditLog, AuditRecord } from './types.js';
import { verifyTenant } from './verify.js';

export interface AuditSettings {
  /** False only for the bench's on/off comparison (ALLSOURCE_AUDIT=off). */
  enabled: boolean;
  /** Sign a checkpoint once a tenant's chain grew by this many records (default 1000)… */
  checkpointEvery: number;
  /** …or after this long, if it grew at all (default 60 s). */
  checkpointIntervalMs: number;
  /** The checkpoint file outside the database (default `<data dir>/audit-checkpoints.ndjson`). */
  checkpointFile: string;
}

export interface AuditDependencies {
  db: SqliteDatabase;
  /** HKDF(master key, 'allsource/audit'): wraps the checkpoint-signing key. The caller zeroes it. */
  kek: DerivedKey;
  settings: AuditSettings;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** UUIDv7 text by default; tests pin it. */
  newId?: () => string;
  /** A listener or a checkpoint failed after the record committed (logged; the record stands). */
  onError: (error: unknown) => void;
}

const SYSTEM_ACTOR = { type: 'system', id: null, ip: null } as const;

/** A record inserted, not yet known to be committed. */
interface Written {
  record: AuditRecord;
  timestampMs: number;
  hash: string;
  tenantNo: number;
}

/**
 * The audit trail over one open database.
 *
 * @example
 * const audit = createAuditLog({ db, kek: deriveKey(masterKey, 'allsource/audit'), settings, now: Date.now, onError });
 * audit.within(context, { action: 'delete_user', outcome: 'success', resource: id }, () => identity.deleteUser(t, id));
 */
export function createAuditLog(deps: AuditDependencies): AuditLog {
  const { db, settings } = deps;
  const statements = prepareAuditStatements(db);
  const tenantNumbers = createTenantNumbers(statements);
  const queries = createAuditQueries(db, tenantNumbers);
  const signer = loadSigner(statements, deps.kek, deps.now);
  const checkpointer = createCheckpointer({
    statements,
    tenantNumbers,
    signer,
    now: deps.now,
    file: settings.checkpointFile,
    every: settings.checkpointEvery,
    intervalMs: settings.checkpointIntervalMs,
    onError: deps.onError,
  });
  // The store's UUIDv7 generator: random bytes from a pool, not one randomFill per record.
  const nextId = createEventIdGenerator(deps.now);
  const newId = deps.newId ?? (() => uuidText(nextId()));
  const listeners = new Set<(record: AuditRecord, timestampMs: number) => void>();

  /** Inserts one record at the head of its tenant's chain; the caller holds the transaction. */
  function insert(context: AuditContext, entry: AuditEntry): Written {
    try {
      return insertRow(context, entry);
    } catch (error) {
      throw error instanceof AuditUnavailableError ? error : new AuditUnavailableError(error);
    }
  }

  function insertRow(context: AuditContext, entry: AuditEntry): Written {
    const tenantNo = tenantNumbers.forWrite(context.tenantId);
    const head = statements.head.get(tenantNo, tenantNo);
    // Timestamps never go backwards within a tenant, so time ranges follow the chain's order.
    const timestampMs = Math.max(deps.now(), head?.timestamp ?? 0);
    const { actor } = context;
    const record: AuditRecord = {
      id: newId(),
      seq: (head?.seq ?? 0) + 1,
      tenant_id: context.tenantId,
      timestamp: isoOf(timestampMs),
      action: entry.action,
      actor: {
        type: actor.type,
        id: actor.id,
        ...(actor.name === undefined ? {} : { name: actor.name }),
        ...(actor.role === undefined ? {} : { role: actor.role }),
        ip: actor.ip,
      },
      outcome: entry.outcome,
      resource: entry.resource ?? null,
      request_id: context.requestId,
      metadata: entry.metadata ?? {},
    };
    const metadataJson = JSON.stringify(record.metadata);
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = chainHash(prevHash, canonicalRecord(record, metadataJson));
    statements.insert.run(
      tenantNo,
      record.seq,
      record.tenant_id,
      record.seq,
      record.id,
      timestampMs,
      record.action,
      actor.type,
      actor.id,
      actor.name ?? null,
      actor.role ?? null,
      actor.ip,
      record.outcome,
      record.resource,
      record.request_id,
      metadataJson,
      prevHash,
      hash,
    );
    return { record, timestampMs, hash, tenantNo };
  }

  function committed(written: Written): void {
    tenantNumbers.committed(written.record.tenant_id, written.tenantNo);
    try {
      checkpointer.committed(written.record.tenant_id, written.record.seq, written.hash);
    } catch (error) {
      deps.onError(error);
    }
    for (const listener of listeners) {
      try {
        listener(written.record, written.timestampMs);
      } catch (error) {
        deps.onError(error);
      }
    }
  }

  function recordAlone(context: AuditContext, entry: AuditEntry): AuditRecord {
    let written: Written;
    try {
      written = db.transaction(() => insert(context, entry))();
    } catch (error) {
      throw error instanceof AuditUnavailableError ? error : new AuditUnavailableError(error);
    }
    committed(written);
    return written.record;
  }

  return {
    enabled: settings.enabled,
    onRecorded(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    recordSystem(entry) {
      const context = { tenantId: entry.tenantId, actor: { ...SYSTEM_ACTOR }, requestId: null };
      return recordAlone(context, {
        action: entry.action,
        outcome: entry.outcome,
        resource: entry.resource ?? null,
        metadata: entry.metadata ?? {},
      });
    },
    record(context, entry) {
      return settings.enabled ? recordAlone(context, entry) : undefined;
    },
    within(context, entry, action) {
      if (!settings.enabled) return action();
      let written: Written | undefined;
      const result = db.transaction(() => {
        if (typeof entry !== 'function') written = insert(context, entry);
        const value = action();
        if (typeof entry === 'function') written = insert(context, entry(value));
        return value;
      })();
      committed(written!);
      return result;
    },
    job<T>(context: AuditContext, entry: (result: T) => AuditEntry): AuditJob<T> {
      let written: Written | undefined;
      return {
        write(result) {
          if (settings.enabled) written = insert(context, entry(result));
        },
        committed() {
          if (written) committed(written);
        },
      };
    },
    query: (tenantId, filter, page) => queries.page(tenantId, filter, page),
    exportPage: (tenantId, filter, afterSeq, limit) => queries.after(tenantId, filter, afterSeq, limit),
    verify: (tenantId) =>
      verifyTenant({ statements, tenantNumbers, signer, checkpointFile: settings.checkpointFile }, tenantId),
    checkpoints(tenantId, page) {
      return {
        checkpoints: statements.checkpointPage.all(tenantId, page.limit, page.offset).map(toCheckpoint),
        total: statements.countCheckpoints.get(tenantId)!.n,
      };
    },
    publicKeys: () => signer.publicKeys(),
    checkpointNow: () => checkpointer.all(),
    close: () => checkpointer.close(),
  };
}
