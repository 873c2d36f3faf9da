import { isoTimestamp, uuidText } from '../store/index.js';
import { GENESIS_HASH } from './chain.js';
import type { AuditRow, ChainedRow } from './statements.js';
import type { ActorType, AuditOutcome, AuditRecord, ChainedRecord } from './types.js';

/** The store's ISO formatter, which keeps the text up to the second between calls. */
export const isoOf = isoTimestamp;

/** A stored id: the UUID's 16 bytes as its text; anything else (a hand-edited row) as it is. */
export function idText(value: Buffer | string): string {
  if (typeof value === 'string') return value;
  return value.length === 16 ? uuidText(value) : value.toString('hex');
}

/** A stored hash as the lowercase hex the chain is computed over. */
export const hashText = (value: Buffer | string): string => (typeof value === 'string' ? value : value.toString('hex'));

export function toRecord(row: AuditRow): AuditRecord {
  return {
    id: idText(row.id),
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

export function toChained(row: ChainedRow): ChainedRecord {
  return {
    ...toRecord(row),
    prev_hash: row.prev_hash === null ? GENESIS_HASH : hashText(row.prev_hash),
    hash: hashText(row.hash),
  };
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
