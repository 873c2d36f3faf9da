import { expect } from 'vitest';
import type { AuditRecord } from '../../src/server/audit/index.js';
import type { TestServer } from './server.js';

/** Helpers for the audit tests: records read in-process, as the server's own AuditLog sees them. */

export const TENANTS = ['default', 'acme', 'globex'] as const;

/** Every tenant's newest sequence number. */
export function heads(server: TestServer, tenants: readonly string[] = TENANTS): Map<string, number> {
  return new Map(
    tenants.map((tenant) => [tenant, server.app.audit.query(tenant, {}, { limit: 1, offset: 0 }).events[0]?.seq ?? 0]),
  );
}

/** The records written since `before`, oldest first, over the given tenants. */
export function since(server: TestServer, before: Map<string, number>): AuditRecord[] {
  const found: AuditRecord[] = [];
  for (const [tenant, seq] of before) {
    const page = server.app.audit.query(tenant, {}, { limit: 1000, offset: 0 });
    found.push(...page.events.filter((record) => record.seq > seq).reverse());
  }
  return found;
}

/** Runs `step` and expects exactly one new record, which it returns. */
export async function exactlyOne(server: TestServer, step: () => Promise<unknown>): Promise<AuditRecord> {
  const before = heads(server);
  await step();
  const records = since(server, before);
  expect(
    records.map((record) => `${record.tenant_id}:${record.action}:${record.outcome}`),
    'one record per request',
  ).toHaveLength(1);
  return records[0]!;
}
