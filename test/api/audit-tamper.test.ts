import sqlcipher from '@journeyapps/sqlcipher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalRecord, chainHash, GENESIS_HASH } from '../../src/server/audit/index.js';
import { uuidText } from '../../src/server/store/index.js';
import { bearer, createTenant, createUser, type Headers } from '../support/identity.js';
import { api, startServer, type TestServer } from '../support/server.js';
import { all, closeZetetic, exec, openZetetic } from '../support/zetetic.js';
import { CIPHER_PAGE_SIZE } from '../../src/server/db/index.js';

/**
 * Issue 6, item 2: the database refuses UPDATE and DELETE of audit rows; a row edited, deleted or
 * inserted through a second SQLCipher connection (triggers dropped) makes verify fail at that
 * row; a chain recomputed after an edit, or a tail cut off, is caught by the signed checkpoints,
 * in the database or, when those are deleted too, in the file beside it.
 */

let server: TestServer;
const admins = new Map<string, Headers>();
const SCENARIOS = ['t-edit', 't-delete', 't-insert', 't-rewrite', 't-truncate', 't-clean'];

let outside: sqlcipher.Database | undefined;

/**
 * The second connection, Zetetic's SQLCipher, opened once and closed only after the server: two
 * SQLite libraries in one process do not see each other's POSIX locks, so closing the outsider
 * while the server runs would let it checkpoint and delete the WAL under the server.
 */
async function writable(): Promise<sqlcipher.Database> {
  if (outside) return outside;
  const db = await openZetetic(server.app.databaseFile, sqlcipher.OPEN_READWRITE);
  await exec(db, `PRAGMA key = "x'${server.databaseKeyHex}'";`);
  await exec(db, `PRAGMA cipher_page_size = ${CIPHER_PAGE_SIZE};`);
  await exec(db, 'PRAGMA busy_timeout = 5000;');
  outside = db;
  return db;
}

async function tamper(sql: string): Promise<void> {
  const db = await writable();
  await exec(db, 'DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  await exec(db, 'DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;');
  await exec(db, sql);
}

const verify = async (tenant: string) => {
  const res = await api(server.url, '/api/v1/audit/verify', { headers: admins.get(tenant)! });
  expect(res.status, res.text).toBe(200);
  return res.body as { valid: boolean; checked: number; first_bad?: number; reason?: string };
};

beforeAll(async () => {
  server = await startServer({ env: { ALLSOURCE_AUDIT_CHECKPOINT_RECORDS: '4' } });
  for (const tenant of SCENARIOS) {
    await createTenant(server.url, tenant);
    const user = await createUser(server.url, { username: `admin-${tenant}`, tenant_id: tenant, role: 'admin' });
    admins.set(tenant, bearer(user.token));
    for (let i = 0; i < 6; i++) await api(server.url, '/api/v1/stats', { headers: admins.get(tenant)! });
  }
});

afterAll(async () => {
  await server?.dispose();
  if (outside) await closeZetetic(outside);
});

describe('the database itself keeps the trail append-only', () => {
  it.each([
    ['UPDATE', "UPDATE audit_log SET action = 'nothing' WHERE tenant_id = 't-clean'"],
    ['DELETE', "DELETE FROM audit_log WHERE tenant_id = 't-clean'"],
    ['DELETE of a checkpoint', 'DELETE FROM audit_checkpoints'],
  ])('refuses %s, whoever sends it', async (_name, sql) => {
    await expect(exec(await writable(), sql)).rejects.toThrow(/append-only/);
    expect((await verify('t-clean')).valid).toBe(true);
  });
});

describe('verify', () => {
  it('passes an untouched chain and counts its records', async () => {
    const result = await verify('t-clean');
    expect(result).toMatchObject({ valid: true });
    expect(result.checked).toBeGreaterThanOrEqual(7);
  });

  it('finds a row edited in the database file', async () => {
    await tamper(`UPDATE audit_log SET metadata = '{"count":0}' WHERE tenant_id = 't-edit' AND seq = 3`);
    expect(await verify('t-edit')).toMatchObject({ valid: false, first_bad: 3 });
  });

  it('finds a row deleted from the middle', async () => {
    await tamper(`DELETE FROM audit_log WHERE tenant_id = 't-delete' AND seq = 4`);
    expect(await verify('t-delete')).toMatchObject({ valid: false, first_bad: 4 });
  });

  it('finds a row inserted at the head', async () => {
    const head = server.app.audit.query('t-insert', {}, { limit: 1, offset: 0 }).events[0]!;
    const next = head.seq + 1;
    await tamper(
      `INSERT INTO audit_log (pos, tenant_id, seq, id, timestamp, action, actor_type, outcome, metadata, hash)
       SELECT pos + 1, tenant_id, ${next}, 'forged', timestamp, 'login', 'user', 'success', '{}', hash
       FROM audit_log WHERE tenant_id = 't-insert' AND seq = ${head.seq}`,
    );
    expect(await verify('t-insert')).toMatchObject({ valid: false, first_bad: next });
  });

  it('finds an edit even when the whole chain after it was recomputed (the signed checkpoint disagrees)', async () => {
    server.app.audit.checkpointNow();
    const db = await writable();
    {
      await exec(db, 'DROP TRIGGER IF EXISTS audit_log_no_update;');
      const rows = await all<Record<string, any>>(
        db,
        "SELECT * FROM audit_log WHERE tenant_id = 't-rewrite' ORDER BY seq",
      );
      let prev = GENESIS_HASH;
      for (const row of rows) {
        if (row.seq === 2) row.metadata = '{"rewritten":true}';
        const record = {
          id: uuidText(row.id as Buffer),
          seq: row.seq,
          tenant_id: row.tenant_id,
          timestamp: new Date(row.timestamp).toISOString(),
          action: row.action,
          actor: {
            type: row.actor_type,
            id: row.actor_id,
            ...(row.actor_name === null ? {} : { name: row.actor_name }),
            ...(row.actor_role === null ? {} : { role: row.actor_role }),
            ip: row.actor_ip,
          },
          outcome: row.outcome,
          resource: row.resource,
          request_id: row.request_id,
          metadata: {},
        };
        const hash = chainHash(prev, canonicalRecord(record, row.metadata));
        const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
        await exec(
          db,
          `UPDATE audit_log SET metadata = ${quote(row.metadata)}, hash = X'${hash}'
           WHERE tenant_id = 't-rewrite' AND seq = ${row.seq}`,
        );
        prev = hash;
      }
    }
    const result = await verify('t-rewrite');
    expect(result.valid).toBe(false);
    expect(result.first_bad).toBeLessThanOrEqual(2);
    expect(result.reason).toMatch(/checkpoint/);
  });

  it('finds a cut-off tail through the checkpoints, and through the file when those are deleted too', async () => {
    server.app.audit.checkpointNow();
    const head = server.app.audit.query('t-truncate', {}, { limit: 1, offset: 0 }).events[0]!.seq;
    await tamper(`DELETE FROM audit_log WHERE tenant_id = 't-truncate' AND seq >= ${head - 1}`);
    expect(await verify('t-truncate')).toMatchObject({ valid: false, first_bad: head - 1 });
    await tamper(`DELETE FROM audit_checkpoints WHERE tenant_id = 't-truncate'`);
    expect(server.app.audit.checkpoints('t-truncate', { limit: 10, offset: 0 }).total).toBe(0);
    // The first verify was itself recorded, at the first free place (head - 1): the file's
    // checkpoint of `head` still says a record is missing.
    expect(await verify('t-truncate')).toMatchObject({ valid: false, first_bad: head });
  });

  it('leaves the other tenants valid', async () => {
    expect((await verify('t-clean')).valid).toBe(true);
  });
});
