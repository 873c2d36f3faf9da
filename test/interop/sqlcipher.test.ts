import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import sqlcipher from '@journeyapps/sqlcipher';
import { WrongKeyError } from '../../src/server/db/index.js';
import { api, startServer, tempDir, type TestServer } from '../support/server.js';
import { all, closeZetetic, exec, openWithKey, openZetetic } from '../support/zetetic.js';
import { runServerProcess } from '../support/child-server.js';

/**
 * Encryption at rest, checked from outside: Zetetic's own SQLCipher 4 reads the file the
 * server wrote given the derived key, and refuses it otherwise; the bytes on disk hold none
 * of the plaintext; a wrong master key is refused without touching the file.
 */

const DB_FILE = 'allsource.db';

// --- helpers --------------------------------------------------------------------------------

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Every file of the data directory with its hash, so that "unchanged" covers -wal and -shm too. */
function snapshotDir(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, sha256(join(dir, name))]));
}

function uuidFromHex(hex: string): string {
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface Ingested {
  event_id: string;
  event_type: string;
  entity_id: string;
  payload: unknown;
  metadata: unknown;
  version: number;
  position: number;
}

/** Ingests single events and a batch, every one carrying `marker` in its entity, type, payload and metadata. */
async function ingest(server: TestServer, marker: string): Promise<Ingested[]> {
  const make = (i: number) => ({
    event_type: `interop.${marker}.${i % 3}`,
    entity_id: `customer-${marker}-${i % 4}`,
    payload: { secret: `${marker} card 4111-1111-1111-${String(i).padStart(4, '0')}`, i, note: 'naïve café 🧾 עברית' },
    metadata: { source: `metadata-${marker}` },
  });
  const ingested: Ingested[] = [];
  for (let i = 0; i < 10; i++) {
    const event = make(i);
    const res = await api(server.url, '/api/v1/events', { json: event });
    expect(res.status).toBe(201);
    ingested.push({ ...event, ...res.body });
  }
  const batch = Array.from({ length: 40 }, (_, i) => make(10 + i));
  const res = await api(server.url, '/api/v1/events/batch', { json: { events: batch } });
  expect(res.status).toBe(201);
  batch.forEach((event, i) => ingested.push({ ...event, ...res.body.events[i] }));
  return ingested;
}

const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

/** A server with events in it, closed; its directory is removed after the test. */
async function closedServerWithEvents(): Promise<{
  server: TestServer;
  marker: string;
  ingested: Ingested[];
  file: string;
}> {
  const server = await startServer();
  cleanup.push(() => server.dispose());
  const marker = `zx${randomBytes(8).toString('hex')}`;
  const ingested = await ingest(server, marker);
  await server.close();
  return { server, marker, ingested, file: join(server.dataDir, DB_FILE) };
}

describe("the database file, read with Zetetic's SQLCipher 4", () => {
  it('reads back exactly the events that were ingested, given the derived key and the page size', async () => {
    const { server, ingested, file } = await closedServerWithEvents();

    const db = await openWithKey(file, server.databaseKeyHex);
    try {
      const [version] = await all<{ cipher_version: string }>(db, 'PRAGMA cipher_version');
      expect(version?.cipher_version).toMatch(/^4\./);
      expect(await all(db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      // cipher_integrity_check checks every page's HMAC; it lists nothing when all are sound.
      expect(await all(db, 'PRAGMA cipher_integrity_check')).toEqual([]);

      const rows = await all<{
        id: string;
        position: number;
        version: number;
        entity_id: string;
        event_type: string;
        payload: string;
        metadata: string | null;
      }>(
        db,
        `SELECT hex(e.event_id) AS id, e.position, e.version, s.entity_id, t.event_type, e.payload, e.metadata
           FROM events e
           JOIN streams s ON s.stream_id = e.stream_id
           JOIN event_types t ON t.type_id = e.type_id
          WHERE e.tenant_id = 'default'
          ORDER BY e.position`,
      );
      expect(
        rows.map((row) => ({
          event_id: uuidFromHex(row.id),
          event_type: row.event_type,
          entity_id: row.entity_id,
          payload: JSON.parse(row.payload),
          metadata: row.metadata === null ? null : JSON.parse(row.metadata),
          version: row.version,
          position: row.position,
        })),
      ).toEqual(
        ingested.map(({ event_id, event_type, entity_id, payload, metadata, version, position }) => ({
          event_id,
          event_type,
          entity_id,
          payload,
          metadata,
          version,
          position,
        })),
      );
    } finally {
      await closeZetetic(db);
    }
  });

  it('refuses the file with a wrong key (file is not a database), and reading leaves it unchanged', async () => {
    const { server, file } = await closedServerWithEvents();
    const before = snapshotDir(server.dataDir);

    for (const keyHex of [randomBytes(32).toString('hex'), server.masterKeyHex]) {
      const db = await openWithKey(file, keyHex);
      try {
        const failure = await all(db, 'SELECT count(*) FROM sqlite_master').then(
          () => undefined,
          (error: Error & { code?: string }) => error,
        );
        expect(failure).toBeInstanceOf(Error);
        expect(failure?.code).toBe('SQLITE_NOTADB');
        expect(failure?.message).toMatch(/file is not a database/);
      } finally {
        await closeZetetic(db);
      }
    }

    // And with no key at all, it is not a SQLite file either.
    const plain = await openZetetic(file);
    try {
      await expect(all(plain, 'SELECT count(*) FROM sqlite_master')).rejects.toMatchObject({ code: 'SQLITE_NOTADB' });
    } finally {
      await closeZetetic(plain);
    }
    expect(snapshotDir(server.dataDir)).toEqual(before);
  });
});

describe('the bytes on disk', () => {
  it('hold none of the plaintext, and no SQLite header', async () => {
    const { server, marker, ingested } = await closedServerWithEvents();

    const files = readdirSync(server.dataDir);
    expect(files).toContain(DB_FILE);
    const needles = [marker, `metadata-${marker}`, 'card 4111-1111-1111', 'naïve café', 'interop.'];
    for (const name of files) {
      const bytes = readFileSync(join(server.dataDir, name));
      for (const needle of needles) {
        expect({ file: name, needle, found: bytes.includes(Buffer.from(needle, 'utf8')) }).toEqual({
          file: name,
          needle,
          found: false,
        });
        // UTF-16 too, in case anything were ever stored that way.
        expect(bytes.includes(Buffer.from(needle, 'utf16le'))).toBe(false);
      }
      for (const { event_id } of ingested.slice(0, 5)) {
        expect(bytes.includes(Buffer.from(event_id.replace(/-/g, ''), 'hex'))).toBe(false);
      }
    }
    const header = readFileSync(join(server.dataDir, DB_FILE)).subarray(0, 16);
    expect(header.toString('latin1')).not.toBe('SQLite format 3\u0000');
    expect(header.toString('latin1')).not.toContain('SQLite');
  });

  it('the same search finds the marker in an unencrypted SQLite file (the check can fail)', async () => {
    const dir = tempDir('allsource-plain-');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'plain.db');
    const marker = `zx${randomBytes(8).toString('hex')}`;
    const db = await openZetetic(file, sqlcipher.OPEN_READWRITE | sqlcipher.OPEN_CREATE);
    await exec(db, `CREATE TABLE t (payload TEXT); INSERT INTO t VALUES ('{"secret":"${marker}"}');`);
    await closeZetetic(db);
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    expect(bytes.includes(Buffer.from(marker, 'utf8'))).toBe(true);
  });
});

describe('a wrong ALLSOURCE_MASTER_KEY on an existing database', () => {
  it('fails to start with WrongKeyError and leaves the file bytes unchanged', async () => {
    const { server } = await closedServerWithEvents();
    const before = snapshotDir(server.dataDir);
    const wrongKey = randomBytes(32).toString('hex');

    const failure = await startServer({ dataDir: server.dataDir, masterKeyHex: wrongKey }).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WrongKeyError);
    expect((failure as Error).message).toMatch(/wrong key/);
    expect((failure as Error).message).not.toContain(wrongKey);
    expect(snapshotDir(server.dataDir)).toEqual(before);

    // The right key still opens it, with everything in place.
    const again = await startServer({ dataDir: server.dataDir, masterKeyHex: server.masterKeyHex });
    cleanup.push(() => again.close());
    const stats = await api(again.url, '/api/v1/stats');
    expect(stats.body.total_events).toBe(50);
  });

  it('`allsource serve` exits 1 with a clear message and leaves the file bytes unchanged', async () => {
    const { server } = await closedServerWithEvents();
    const before = snapshotDir(server.dataDir);
    const wrongKey = randomBytes(32).toString('hex');

    const { output, exited } = runServerProcess({
      dataDir: server.dataDir,
      configDir: join(server.dataDir, '..', 'wrong-key-config'),
      masterKeyHex: wrongKey,
    });
    cleanup.push(() => rmSync(join(server.dataDir, '..', 'wrong-key-config'), { recursive: true, force: true }));
    const exit = await exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const { stdout, stderr } = output();
    expect(stdout).not.toMatch(/listening/);
    expect(stderr).toMatch(/^allsource: the master key does not open .*wrong key/m);
    expect(stderr).not.toContain(wrongKey);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(snapshotDir(server.dataDir)).toEqual(before);
  });
});
