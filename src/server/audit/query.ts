import type { SqliteDatabase } from '../db/index.js';
import { toChained, toRecord } from './rows.js';
import { LAST_SEQ, PREV_HASH_COLUMN, RECORD_COLUMNS, SPAN, type AuditRow, type ChainedRow } from './statements.js';
import type { TenantNumbers } from './tenant-numbers.js';
import type { AuditFilter, AuditPage, ChainedRecord } from './types.js';

interface Where {
  sql: string;
  params: (string | number)[];
}

/**
 * The tenant's range of positions (the rowid B-tree walks it in order), and its id as well: a row
 * written into another tenant's range through the database file must not show here either.
 * `afterSeq` starts the range later (export's keyset pages).
 */
function whereOf(tenantNo: number, tenantId: string, filter: AuditFilter, afterSeq = 0): Where {
  const clauses = [`pos > ? * ${SPAN} + ?`, `pos <= ? * ${SPAN} + ${LAST_SEQ}`, 'tenant_id = ?'];
  const params: (string | number)[] = [tenantNo, afterSeq, tenantNo, tenantId];
  if (filter.action !== undefined) {
    clauses.push('action = ?');
    params.push(filter.action);
  }
  if (filter.outcome !== undefined) {
    clauses.push('outcome = ?');
    params.push(filter.outcome);
  }
  if (filter.actor !== undefined) {
    clauses.push('(actor_id = ? OR actor_name = ?)');
    params.push(filter.actor, filter.actor);
  }
  if (filter.since !== undefined) {
    clauses.push('timestamp >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push('timestamp <= ?');
    params.push(filter.until);
  }
  return { sql: clauses.join(' AND '), params };
}

/**
 * Filtered reads of the trail. The SQL differs only by which filters are present (at most 32
 * shapes), so each shape is prepared once and kept.
 */
export function createAuditQueries(db: SqliteDatabase, tenantNumbers: TenantNumbers) {
  const prepared = new Map<string, ReturnType<typeof db.prepare<(string | number)[]>>>();
  const statement = (sql: string) => {
    let found = prepared.get(sql);
    if (!found) {
      found = db.prepare<(string | number)[]>(sql);
      prepared.set(sql, found);
    }
    return found;
  };

  return {
    /** Newest first. */
    page(tenantId: string, filter: AuditFilter, page: { limit: number; offset: number }): AuditPage {
      const tenantNo = tenantNumbers.find(tenantId);
      if (tenantNo === undefined) return { events: [], total: 0, has_more: false };
      const where = whereOf(tenantNo, tenantId, filter);
      const rows = statement(
        `SELECT ${RECORD_COLUMNS} FROM audit_log WHERE ${where.sql} ORDER BY pos DESC LIMIT ? OFFSET ?`,
      ).all(...where.params, page.limit, page.offset) as AuditRow[];
      const { n } = statement(`SELECT count(*) AS n FROM audit_log WHERE ${where.sql}`).get(...where.params) as {
        n: number;
      };
      return { events: rows.map(toRecord), total: n, has_more: page.offset + rows.length < n };
    },

    /** Oldest first, after `afterSeq`: the export's keyset pages. */
    after(tenantId: string, filter: AuditFilter, afterSeq: number, limit: number): ChainedRecord[] {
      const tenantNo = tenantNumbers.find(tenantId);
      if (tenantNo === undefined) return [];
      const where = whereOf(tenantNo, tenantId, filter, afterSeq);
      const rows = statement(
        `SELECT ${RECORD_COLUMNS}, ${PREV_HASH_COLUMN} FROM audit_log WHERE ${where.sql} ORDER BY pos LIMIT ?`,
      ).all(...where.params, limit) as ChainedRow[];
      return rows.map(toChained);
    },
  };
}
