import type { SqliteDatabase } from '../db/index.js';
import { toChained, toRecord } from './rows.js';
import type { AuditRow } from './statements.js';
import type { AuditFilter, AuditPage, ChainedRecord } from './types.js';

interface Where {
  sql: string;
  params: (string | number)[];
}

function whereOf(tenantId: string, filter: AuditFilter): Where {
  const clauses = ['tenant_id = ?'];
  const params: (string | number)[] = [tenantId];
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
export function createAuditQueries(db: SqliteDatabase) {
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
      const where = whereOf(tenantId, filter);
      const rows = statement(`SELECT * FROM audit_log WHERE ${where.sql} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(
        ...where.params,
        page.limit,
        page.offset,
      ) as AuditRow[];
      const { n } = statement(`SELECT count(*) AS n FROM audit_log WHERE ${where.sql}`).get(...where.params) as {
        n: number;
      };
      return { events: rows.map(toRecord), total: n, has_more: page.offset + rows.length < n };
    },

    /** Oldest first, after `afterSeq`: the export's keyset pages. */
    after(tenantId: string, filter: AuditFilter, afterSeq: number, limit: number): ChainedRecord[] {
      const where = whereOf(tenantId, filter);
      const rows = statement(`SELECT * FROM audit_log WHERE ${where.sql} AND seq > ? ORDER BY seq LIMIT ?`).all(
        ...where.params,
        afterSeq,
        limit,
      ) as AuditRow[];
      return rows.map(toChained);
    },
  };
}
