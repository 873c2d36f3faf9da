import type { SqliteDatabase, SqliteStatement } from '../db/index.js';

export interface OverrideRow {
  tenant_id: string;
  requests_per_minute: number;
  burst_size: number;
  updated_at: number;
}

export interface IpRuleRow {
  id: string;
  scope: 'global' | 'tenant';
  tenant_id: string | null;
  list: 'allow' | 'block';
  cidr: string;
  note: string | null;
  created_at: number;
}

/** Every SQL statement of the protection layer, prepared once. */
export function prepareProtectionStatements(db: SqliteDatabase) {
  return {
    listOverrides: db.prepare('SELECT * FROM rate_limit_overrides ORDER BY tenant_id') as SqliteStatement<
      [],
      OverrideRow
    >,
    upsertOverride: db.prepare(
      `INSERT INTO rate_limit_overrides (tenant_id, requests_per_minute, burst_size, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id) DO UPDATE SET requests_per_minute = excluded.requests_per_minute,
         burst_size = excluded.burst_size, updated_at = excluded.updated_at`,
    ) as SqliteStatement<[string, number, number, number]>,
    deleteOverride: db.prepare('DELETE FROM rate_limit_overrides WHERE tenant_id = ?') as SqliteStatement<[string]>,
    listIpRules: db.prepare('SELECT * FROM ip_rules ORDER BY created_at, id') as SqliteStatement<[], IpRuleRow>,
    ipRuleById: db.prepare('SELECT * FROM ip_rules WHERE id = ?') as SqliteStatement<[string], IpRuleRow>,
    insertIpRule: db.prepare(
      'INSERT INTO ip_rules (id, scope, tenant_id, list, cidr, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ) as SqliteStatement<[string, string, string | null, string, string, string | null, number]>,
    deleteIpRule: db.prepare('DELETE FROM ip_rules WHERE id = ?') as SqliteStatement<[string]>,
    getSettings: db.prepare("SELECT value FROM security_settings WHERE name = 'settings'") as SqliteStatement<
      [],
      { value: string }
    >,
    putSettings: db.prepare(
      `INSERT INTO security_settings (name, value, updated_at) VALUES ('settings', ?, ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ) as SqliteStatement<[string, number]>,
  };
}

export type ProtectionStatements = ReturnType<typeof prepareProtectionStatements>;
