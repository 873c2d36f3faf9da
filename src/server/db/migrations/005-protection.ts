import type { Migration } from './migration.js';

/**
 * Request protection (issue 5): per-tenant rate-limit overrides, IP allow and block rules, and
 * the platform's security settings. Times are Unix milliseconds.
 *
 * - A tenant's tier stays in tenants.rate_tier; an override replaces it with explicit figures.
 * - ip_rules.cidr is the canonical text (host bits zero, IPv4-mapped stored as IPv4), so the
 *   unique index refuses the same rule written two ways. Global rules have no tenant.
 * - Deleting a tenant deletes its override and rules (foreign keys are on).
 * - security_settings holds one JSON document per name; only `settings` is used today.
 */
export const protectionMigration: Migration = {
  version: 5,
  name: 'protection',
  sql: `
    CREATE TABLE rate_limit_overrides (
      tenant_id           TEXT PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
      requests_per_minute INTEGER NOT NULL CHECK (requests_per_minute >= 1),
      burst_size          INTEGER NOT NULL CHECK (burst_size >= 1),
      updated_at          INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE ip_rules (
      id         TEXT PRIMARY KEY,
      scope      TEXT NOT NULL CHECK (scope IN ('global', 'tenant')),
      tenant_id  TEXT REFERENCES tenants (tenant_id) ON DELETE CASCADE,
      list       TEXT NOT NULL CHECK (list IN ('allow', 'block')),
      cidr       TEXT NOT NULL,
      note       TEXT,
      created_at INTEGER NOT NULL,
      CHECK ((scope = 'global') = (tenant_id IS NULL))
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX ip_rules_unique ON ip_rules (scope, ifnull(tenant_id, ''), list, cidr);

    CREATE TABLE security_settings (
      name       TEXT PRIMARY KEY,
      value      TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
  `,
};
