import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { checkpointMessage } from './chain.js';
import { hashText, isoOf } from './rows.js';
import type { CheckpointSigner } from './signer.js';
import type { AuditStatements, CheckpointRow } from './statements.js';
import type { TenantNumbers } from './tenant-numbers.js';
import type { Checkpoint } from './types.js';

export interface CheckpointerDependencies {
  statements: AuditStatements;
  tenantNumbers: TenantNumbers;
  signer: CheckpointSigner;
  now: () => number;
  /** The NDJSON file outside the database that every checkpoint is also appended to. */
  file: string;
  /** Sign once a tenant's chain has grown by this many records… */
  every: number;
  /** …or, for a chain that grew at all, after this long. */
  intervalMs: number;
  onError: (error: unknown) => void;
}

export interface Checkpointer {
  /** A record is durable: counts towards the tenant's next checkpoint. */
  committed(tenantId: string, seq: number, hash: string): void;
  /** Checkpoints every tenant whose chain grew since its last checkpoint. */
  all(): void;
  close(): void;
}

export function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    tenant_id: row.tenant_id,
    seq: row.seq,
    head_hash: row.head_hash,
    created_at: isoOf(row.created_at),
    key_id: row.key_id,
    signature: row.signature,
  };
}

/**
 * Signs the heads of the tenants' chains every N records or T milliseconds, into the database
 * and into a file beside it. Why a file too: whoever can rewrite the database (the key, the
 * triggers dropped, the chain recomputed) can also rewrite the checkpoint table, but a separate,
 * append-only text file can be shipped, tailed or made append-only by the OS (`chattr +a`), and
 * it survives a database file swapped for an older copy. It holds hashes and signatures only.
 * A checkpoint that cannot be written is logged: the records it covers are already committed.
 */
export function createCheckpointer(deps: CheckpointerDependencies): Checkpointer {
  const { statements } = deps;
  const lastSigned = new Map<string, number>(statements.lastCheckpoints.all().map((row) => [row.tenant_id, row.seq]));
  const pending = new Map<string, { seq: number; hash: string }>();
  for (const { tenantId, tenantNo } of deps.tenantNumbers.all()) {
    const head = statements.head.get(tenantNo, tenantNo);
    if (head && head.seq > (lastSigned.get(tenantId) ?? 0))
      pending.set(tenantId, { seq: head.seq, hash: hashText(head.hash) });
  }

  function checkpoint(tenantId: string): void {
    const head = pending.get(tenantId);
    if (!head) return;
    pending.delete(tenantId);
    lastSigned.set(tenantId, head.seq);
    const unsigned = {
      tenant_id: tenantId,
      seq: head.seq,
      head_hash: head.hash,
      created_at: isoOf(deps.now()),
      key_id: deps.signer.keyId,
    };
    const signed: Checkpoint = { ...unsigned, signature: deps.signer.sign(checkpointMessage(unsigned)) };
    try {
      statements.insertCheckpoint.run(
        tenantId,
        signed.seq,
        signed.head_hash,
        Date.parse(signed.created_at),
        signed.key_id,
        signed.signature,
      );
    } catch (error) {
      deps.onError(error);
    }
    try {
      appendLine(deps.file, `${JSON.stringify(signed)}\n`);
    } catch (error) {
      deps.onError(error);
    }
  }

  const all = () => {
    for (const tenantId of [...pending.keys()]) checkpoint(tenantId);
  };
  const timer = setInterval(all, deps.intervalMs);
  timer.unref();

  return {
    committed(tenantId, seq, hash) {
      pending.set(tenantId, { seq, hash });
      if (seq - (lastSigned.get(tenantId) ?? 0) >= deps.every) checkpoint(tenantId);
    },
    all,
    close() {
      clearInterval(timer);
      all();
    },
  };
}

/** Appends and syncs: checkpoints are rare (one per N records), so each may cost an fsync. */
function appendLine(file: string, line: string): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, line);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
