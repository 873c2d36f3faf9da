import { isoTimestamp } from '../store/index.js';
import type { AuditRow } from './statements.js';
import type { ActorType, AuditOutcome, AuditRecord, ChainedRecord } from './types.js';

/** The store's ISO formatter, which keeps the text up to the second between calls. */
export const isoOf = isoTimestamp;

export function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    seq: row.seq,
    tenant_id: row.tenant_id,
    timestamp: isoOf(row.timestamp),
    action: row.action,
    actor: {
      type: row.actor_type as ActorType,
      id: row.actor_id,
      ...(row.actor_name === null ? {} : { name: row.actor_name }),
      ...(row.actor_role === null ? {} : { role: row.actor_role }),
      ip: row.actor_ip,
    },
    outcome: row.outcome as AuditOutcome,
    resource: row.resource,
    request_id: row.request_id,
    metadata: parseMetadata(row.metadata),
  };
}

export function toChained(row: AuditRow): ChainedRecord {
  return { ...toRecord(row), prev_hash: row.prev_hash, hash: row.hash };
}

/** A row edited to hold something that is not a JSON object still lists: verify is what flags it. */
function parseMetadata(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { unparsable: text };
  } catch {
    return { unparsable: text };
  }
}
