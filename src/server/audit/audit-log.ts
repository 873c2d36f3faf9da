import type { SqliteDatabase } from '../db/index.js';
import type { DerivedKey } from '../kms/index.js';
import { canonicalRecord, chainHash, GENESIS_HASH } from './chain.js';
import { createCheckpointer, toCheckpoint } from './checkpoints.js';
import { AuditUnavailableError } from './errors.js';
import { createAuditQueries } from './query.js';
import { hashText, isoOf } from './rows.js';
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
  /** A listener or a checkpoint failed after the record committed (logged; the record stands). */
  onError: (error: unknown) => void;
}

const SYSTEM_ACTOR = { type: 'system', id: null, ip: null } as const;

/** A tenant's newest record, as this process last wrote or read it. */
interface ChainHead {
  seq: number;
  /** Both forms of the hash: the next record's chain input is the hex, the stored column the bytes. */
  hash: string;
  hashBytes: Buffer;
  timestampMs: number;
}

/**
 * The actor as a record holds it: name and role only when known. The request's actor object is
 * used as it is when it has them both (a signed-in caller), as it is built in that order.
 */
function recordedActor(actor: AuditContext['actor']): AuditRecord['actor'] {
  if (actor.name !== undefined && actor.role !== undefined) return actor;
  const recorded: AuditRecord['actor'] = { type: actor.type, id: actor.id, ip: actor.ip };
  if (actor.name === undefined && actor.role === undefined) return recorded;
  // Name and role before ip, as the record's JSON has always listed them.
  return Object.assign(
    { type: actor.type, id: actor.id },
    actor.name === undefined ? {} : { name: actor.name },
    actor.role === undefined ? {} : { role: actor.role },
    { ip: actor.ip },
  );
}

const isPrimaryKeyConflict = (error: unknown) =>
  (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';

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
  const listeners = new Set<(record: AuditRecord, timestampMs: number) => void>();
  /**
   * Each tenant's head after this process's last insert, so that the next record need not run
   * the head query (a reverse range scan, 1.3 µs). A kept head may be gone, rolled back with its
   * transaction (the action failed), or behind, when rows came another way (a hand-edited file):
   * so it is used only while its row is still there (a rowid lookup, 0.25 µs), and on a miss or
   * a key conflict the head is read from the table again.
   */
  const heads = new Map<number, ChainHead>();

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
    const kept = heads.get(tenantNo);
    if (kept && statements.holds.get(tenantNo, kept.seq, kept.hashBytes) !== undefined) {
      try {
        return insertOnto(context, entry, tenantNo, kept);
      } catch (error) {
        if (!isPrimaryKeyConflict(error)) throw error;
      }
    }
    const stored = statements.head.get(tenantNo, tenantNo);
    if (!stored) return insertOnto(context, entry, tenantNo, undefined);
    const hash = hashText(stored.hash);
    const head = { seq: stored.seq, hash, hashBytes: Buffer.from(hash, 'hex'), timestampMs: stored.timestamp };
    return insertOnto(context, entry, tenantNo, head);
  }

  /** Inserts the record after `head` (undefined: the tenant's first). */
  function insertOnto(
    context: AuditContext,
    entry: AuditEntry,
    tenantNo: number,
    head: ChainHead | undefined,
  ): Written {
    // Timestamps never go backwards within a tenant, so time ranges follow the chain's order.
    const timestampMs = Math.max(deps.now(), head ? head.timestampMs : 0);
    const { actor } = context;
    const id = nextId();
    const seq = head ? head.seq + 1 : 1;
    const metadata = entry.metadata ?? {};
    const resource = entry.resource ?? null;
    const record: AuditRecord = {
      id: uuidText(id),
      seq,
      tenant_id: context.tenantId,
      timestamp: isoOf(timestampMs),
      action: entry.action,
      actor: recordedActor(actor),
      outcome: entry.outcome,
      resource,
      request_id: context.requestId,
      metadata,
    };
    const metadataJson = JSON.stringify(metadata);
    const hash = chainHash(head ? head.hash : GENESIS_HASH, canonicalRecord(record, metadataJson));
    const hashBytes = Buffer.from(hash, 'hex');
    statements.insert.run(
      tenantNo,
      seq,
      context.tenantId,
      seq,
      id,
      timestampMs,
      entry.action,
      actor.type,
      actor.id,
      actor.name ?? null,
      actor.role ?? null,
      actor.ip,
      entry.outcome,
      resource,
      context.requestId,
      metadataJson,
      hashBytes,
    );
    heads.set(tenantNo, { seq, hash, hashBytes, timestampMs });
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
