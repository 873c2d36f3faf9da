import type { AuditStatements } from './statements.js';

export interface TenantNumbers {
  /** For a write, inside its transaction: the tenant's number, given one now if it has none. */
  forWrite(tenantId: string): number;
  /** For a read: the tenant's number, or undefined while it has no trail. */
  find(tenantId: string): number | undefined;
  /** The tenant's record committed, so its number is durable and may be kept in memory. */
  committed(tenantId: string, tenantNo: number): void;
  /** Every numbered tenant (checkpointer start-up). */
  all(): Array<{ tenantId: string; tenantNo: number }>;
}

/**
 * Each tenant's number in audit_tenants (migration 008), which places its chain in the rowid
 * B-tree. Only durable numbers are kept in memory: a number given out in a transaction that
 * then rolls back (the action failed, so its record is gone) is free again, and had it been
 * cached, the next new tenant would have been given the same range.
 */
export function createTenantNumbers(statements: AuditStatements): TenantNumbers {
  const durable = new Map<string, number>();
  for (const row of statements.tenants.all()) durable.set(row.tenant_id, row.tenant_no);

  const stored = (tenantId: string) => statements.tenantNumber.get(tenantId)?.tenant_no;

  return {
    forWrite(tenantId) {
      return durable.get(tenantId) ?? stored(tenantId) ?? Number(statements.numberTenant.run(tenantId).lastInsertRowid);
    },
    find: (tenantId) => durable.get(tenantId) ?? stored(tenantId),
    committed(tenantId, tenantNo) {
      if (!durable.has(tenantId)) durable.set(tenantId, tenantNo);
    },
    all: () => statements.tenants.all().map((row) => ({ tenantId: row.tenant_id, tenantNo: row.tenant_no })),
  };
}
