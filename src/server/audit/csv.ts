import type { ChainedRecord } from './types.js';

export const AUDIT_CSV_COLUMNS = [
  'seq',
  'id',
  'tenant_id',
  'timestamp',
  'action',
  'actor_type',
  'actor_id',
  'actor_name',
  'actor_role',
  'actor_ip',
  'outcome',
  'resource',
  'request_id',
  'metadata',
  'prev_hash',
  'hash',
] as const;

/**
 * One CSV cell, always quoted. A cell that a spreadsheet would read as a formula (it starts with
 * = + - @, or a tab or carriage return that some strip first) gets a leading apostrophe (OWASP,
 * "CSV Injection"): audit fields such as usernames and resources come from clients.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function csvRow(record: ChainedRecord): string {
  const { actor } = record;
  return [
    record.seq,
    record.id,
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
    JSON.stringify(record.metadata),
    record.prev_hash,
    record.hash,
  ]
    .map(csvCell)
    .join(',');
}
