import { hash } from 'node:crypto';
import type { AuditRecord, Checkpoint } from './types.js';

/** The prev_hash of a tenant's first record. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical encoding of a record: a JSON array of its fields in a fixed order, the metadata
 * as the exact JSON text stored (so key order is whatever was written, never re-serialised).
 * Absent name and role are null, so "missing" and "empty" cannot be confused.
 */
export function canonicalRecord(record: AuditRecord, metadataJson: string): string {
  const { actor } = record;
  return JSON.stringify([
    record.id,
    record.seq,
    record.tenant_id,
    record.timestamp,
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
  ]);
}

/**
 * SHA-256 over the previous hash and the canonical record, as lowercase hex. The one-shot
 * crypto.hash costs less than half of a Hash object with its updates, and this runs for every
 * audited request.
 */
export function chainHash(prevHash: string, canonical: string): string {
  return hash('sha256', `${prevHash}\n${canonical}`, 'hex');
}

/** What a checkpoint's signature covers. */
export function checkpointMessage(checkpoint: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(
    JSON.stringify([
      'allsource-audit-checkpoint/1',
      checkpoint.tenant_id,
      checkpoint.seq,
      checkpoint.head_hash,
      checkpoint.created_at,
      checkpoint.key_id,
    ]),
    'utf8',
  );
}
