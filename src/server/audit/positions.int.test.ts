import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, migrations, type SqliteDatabase } from '../db/index.js';
import type { DerivedKey } from '../kms/index.js';
import { createAuditLog } from './audit-log.js';
import { canonicalRecord, chainHash, GENESIS_HASH } from './chain.js';
import type { AuditContext, AuditLog, AuditRecord } from './types.js';

/**
 * Migration 008: audit records keyed by position (tenant number * 2^40 + seq) in a rowid table.
 * What must hold: chains written under 006's layout verify unchanged after the move, each
 * tenant's records stay in its own range whatever order they arrive in, and a number given out
 * in a transaction that rolls back is never shared by two tenants.
 */

const T0 = Date.UTC(2026, 0, 5, 9);
const SPAN = 2n ** 40n;
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
  cleanups = [];
});

function database(upTo = migrations.length): SqliteDatabase {
  const db = new Database(':memory:');
  migrate(db, migrations.slice(0, upTo));
  cleanups.push(() => db.close());
  return db;
}

function auditOver(db: SqliteDatabase): AuditLog {
  const dir = mkdtempSync(join(tmpdir(), 'audit-positions-'));
  let now = T0;
  const audit = createAuditLog({
    db,
    kek: randomBytes(32) as DerivedKey,
    settings: { enabled: true, checkpointEvery: 1000, checkpointIntervalMs: 60_000, checkpointFile: join(dir, 'cp') },
    now: () => (now += 1000),
    onError: (error) => {
      throw error;
    },
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => audit.close());
  return audit;
}

const context = (tenantId: string): AuditContext => ({
  tenantId,
  actor: { type: 'user', id: `u-${tenantId}`, name: 'ann', role: 'admin', ip: '127.0.0.1' },
  requestId: null,
});

const recordFor = (audit: AuditLog, tenantId: string, action = 'read_stats') =>
  audit.record(context(tenantId), { action, outcome: 'success', metadata: { n: 1 } })!;

interface OldRecord {
  seq: number;
  id: string;
  prev: string;
  hash: string;
}

/**
 * Rows as migration 006 stored them (ids and hashes as text), hash-chained exactly as the audit
 * log chains them. `ids` overrides some records' ids, as a hand-edited row might have them.
 */
function writeOldChain(
  db: SqliteDatabase,
  tenantId: string,
  count: number,
  ids: Record<number, string> = {},
): OldRecord[] {
  const written: OldRecord[] = [];
  const insert = db.prepare(
    `INSERT INTO audit_log (tenant_id, seq, id, timestamp, action, actor_type, actor_id, actor_name, actor_role,
       actor_ip, outcome, resource, request_id, metadata, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, 'user', ?, 'ann', 'admin', '127.0.0.1', 'success', NULL, NULL, ?, ?, ?)`,
  );
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const ms = T0 + seq;
    const metadataJson = JSON.stringify({ old: seq });
    const record: AuditRecord = {
      id: ids[seq] ?? randomUUID(),
      seq,
      tenant_id: tenantId,
      timestamp: new Date(ms).toISOString(),
      action: 'login',
      actor: { type: 'user', id: `u-${tenantId}`, name: 'ann', role: 'admin', ip: '127.0.0.1' },
      outcome: 'success',
      resource: null,
      request_id: null,
      metadata: { old: seq },
    };
    const hash = chainHash(prev, canonicalRecord(record, metadataJson));
    insert.run(tenantId, seq, record.id, ms, 'login', `u-${tenantId}`, metadataJson, prev, hash);
    written.push({ seq, id: record.id, prev, hash });
    prev = hash;
  }
  return written;
}

/** Each row's tenant number and seq, read from its position by SQLite's 64-bit arithmetic. */
function placed(db: SqliteDatabase): Array<{ tenant_id: string; tenant_no: bigint; seq: bigint; stored_seq: bigint }> {
  return db
    .prepare(
      `SELECT tenant_id, pos / ${SPAN} AS tenant_no, pos % ${SPAN} AS seq, seq AS stored_seq FROM audit_log ORDER BY pos`,
    )
    .safeIntegers()
    .all() as Array<{ tenant_id: string; tenant_no: bigint; seq: bigint; stored_seq: bigint }>;
}

describe('migration 008', () => {
  it('moves chains written under the old layout without changing a hash, and they go on growing', async () => {
    const db = database(7);
    const beta = writeOldChain(db, 'beta', 3);
    const alpha = writeOldChain(db, 'alpha', 2, { 2: 'Hand-Written' });
    migrate(db);

    expect(db.prepare('SELECT tenant_id, tenant_no FROM audit_tenants ORDER BY tenant_no').all()).toEqual([
      { tenant_id: 'alpha', tenant_no: 1 },
      { tenant_id: 'beta', tenant_no: 2 },
    ]);
    // Well-formed ids and hashes are now their bytes; the hand-written id stays the text it was.
    expect(
      db
        .prepare('SELECT typeof(id) AS id, length(id) AS n, typeof(hash) AS hash, length(hash) AS m FROM audit_log')
        .all(),
    ).toEqual([
      { id: 'blob', n: 16, hash: 'blob', m: 32 },
      { id: 'text', n: 12, hash: 'blob', m: 32 },
      ...beta.map(() => ({ id: 'blob', n: 16, hash: 'blob', m: 32 })),
    ]);

    const audit = auditOver(db);
    // The export shows each record as 006 stored it: same id, hash and previous hash.
    for (const [tenant, old] of [
      ['alpha', alpha],
      ['beta', beta],
    ] as const) {
      const chained = audit.exportPage(tenant, {}, 0, 10);
      expect(chained.map(({ seq, id, prev_hash, hash }) => ({ seq, id, prev: prev_hash, hash }))).toEqual(old);
    }
    expect(await audit.verify('alpha')).toEqual({ valid: true, checked: 2, checkpoints_checked: 0 });
    expect(await audit.verify('beta')).toEqual({ valid: true, checked: 3, checkpoints_checked: 0 });
    expect(audit.query('beta', {}, { limit: 10, offset: 0 }).events.map((r) => r.seq)).toEqual([3, 2, 1]);

    expect(recordFor(audit, 'beta').seq).toBe(4);
    expect(recordFor(audit, 'gamma').seq).toBe(1);
    expect(await audit.verify('beta')).toMatchObject({ valid: true, checked: 4 });
    expect(placed(db).map((row) => `${row.tenant_id}:${row.tenant_no}:${row.seq}`)).toEqual([
      'alpha:1:1',
      'alpha:1:2',
      'beta:2:1',
      'beta:2:2',
      'beta:2:3',
      'beta:2:4',
      'gamma:3:1',
    ]);
  });

  it('migrates an empty trail', () => {
    const db = database(7);
    migrate(db);
    expect(db.prepare('SELECT count(*) AS n FROM audit_tenants').get()).toEqual({ n: 0 });
  });
});

describe('positions', () => {
  it("keep each tenant's records in its own range, in order, whatever order they arrive in", async () => {
    const db = database();
    const audit = auditOver(db);
    const order = ['t1', 't2', 't1', 't3', 't3', 't2', 't1', 't3', 't1'];
    for (const tenant of order) recordFor(audit, tenant);
    const rows = placed(db);
    for (const tenant of ['t1', 't2', 't3']) {
      const own = rows.filter((row) => row.tenant_id === tenant);
      expect(new Set(own.map((row) => row.tenant_no)).size).toBe(1);
      expect(own.map((row) => Number(row.seq))).toEqual(own.map((_, i) => i + 1));
      expect(own.every((row) => row.seq === row.stored_seq)).toBe(true);
      expect(await audit.verify(tenant)).toMatchObject({ valid: true, checked: own.length });
      const page = audit.query(tenant, {}, { limit: 2, offset: 0 });
      expect(page.events.every((record) => record.tenant_id === tenant)).toBe(true);
      expect(page.total).toBe(own.length);
    }
    expect(audit.exportPage('t1', {}, 2, 10).map((record) => record.seq)).toEqual([3, 4]);
  });

  it('never give two tenants one range when a new tenant’s first record is rolled back', async () => {
    const db = database();
    const audit = auditOver(db);
    recordFor(audit, 'existing');
    expect(() =>
      audit.within(context('first'), { action: 'create_user', outcome: 'success' }, () => {
        throw new Error('the action failed');
      }),
    ).toThrow('the action failed');
    expect(audit.query('first', {}, { limit: 10, offset: 0 }).total).toBe(0);

    recordFor(audit, 'second');
    recordFor(audit, 'first');
    recordFor(audit, 'second');
    const numbers = new Map(placed(db).map((row) => [row.tenant_id, row.tenant_no]));
    expect(new Set(numbers.values()).size).toBe(3);
    for (const tenant of ['existing', 'first', 'second']) expect((await audit.verify(tenant)).valid).toBe(true);
    expect(audit.query('second', {}, { limit: 10, offset: 0 }).total).toBe(2);
  });

  it('chain onto the stored head when the one kept in memory was rolled back, or overtaken', async () => {
    const db = database();
    const audit = auditOver(db);
    recordFor(audit, 'acme');
    // Record 2 is written, then rolled back with its transaction: the next record is 2 again.
    expect(() =>
      audit.within(context('acme'), { action: 'delete_user', outcome: 'success' }, () => {
        throw new Error('the action failed');
      }),
    ).toThrow('the action failed');
    expect(recordFor(audit, 'acme').seq).toBe(2);
    expect(await audit.verify('acme')).toEqual({ valid: true, checked: 2, checkpoints_checked: 0 });

    // A row added behind this process's back (seq 3): the next record follows it, at 4.
    db.exec(
      `INSERT INTO audit_log SELECT pos + 1, tenant_id, 3, id, timestamp, action, actor_type, actor_id, actor_name,
         actor_role, actor_ip, outcome, resource, request_id, metadata, hash FROM audit_log WHERE seq = 2`,
    );
    expect(recordFor(audit, 'acme').seq).toBe(4);
    expect(audit.query('acme', {}, { limit: 10, offset: 0 }).events.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    expect(await audit.verify('acme')).toMatchObject({ valid: false, first_bad: 3 });
  });

  it('are refused when a row claims one seq and sits at another, and tenant numbers are append-only', () => {
    const db = database();
    const audit = auditOver(db);
    recordFor(audit, 'acme');
    db.exec('DROP TRIGGER audit_log_no_update');
    expect(() => db.exec('UPDATE audit_log SET seq = 2')).toThrow(/CHECK constraint/);
    expect(() => db.exec(`UPDATE audit_tenants SET tenant_no = 9`)).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM audit_tenants')).toThrow(/append-only/);
  });

  it('find no records for a tenant without a trail, and a row moved into its range is flagged', async () => {
    const db = database();
    const audit = auditOver(db);
    recordFor(audit, 'acme');
    recordFor(audit, 'globex');
    expect(audit.query('initech', {}, { limit: 10, offset: 0 })).toEqual({ events: [], total: 0, has_more: false });
    expect(await audit.verify('initech')).toEqual({ valid: true, checked: 0, checkpoints_checked: 0 });

    // A record naming globex, chained correctly onto acme's head and placed in acme's range: its
    // hash checks out, so only the tenant check can flag it.
    const head = audit.exportPage('acme', {}, 0, 1)[0]!;
    const forged: AuditRecord = {
      ...head,
      id: 'forged',
      seq: 2,
      tenant_id: 'globex',
      actor: { type: 'user', id: null, ip: null },
      resource: null,
      request_id: null,
      metadata: {},
    };
    const hash = chainHash(head.hash, canonicalRecord(forged, '{}'));
    db.prepare(
      `INSERT INTO audit_log (pos, tenant_id, seq, id, timestamp, action, actor_type, outcome, metadata, hash)
       SELECT tenant_no * ${SPAN} + 2, 'globex', 2, 'forged', ?, ?, 'user', 'success', '{}', ?
         FROM audit_tenants WHERE tenant_id = 'acme'`,
    ).run(Date.parse(head.timestamp), head.action, Buffer.from(hash, 'hex'));
    expect(await audit.verify('acme')).toMatchObject({
      valid: false,
      first_bad: 2,
      reason: expect.stringMatching(/another tenant/),
    });
    expect(audit.query('acme', {}, { limit: 10, offset: 0 }).total).toBe(1);
  });
});
