import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../db/index.js';
import type { DerivedKey } from '../kms/index.js';
import { StoreClosedError } from './errors.js';
import { createGroupCommitter } from './group-commit.js';

let dir: string;
let db: SqliteDatabase;
/** A second connection: it sees only what has been committed. */
let observer: SqliteDatabase;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
  const key = randomBytes(32) as DerivedKey;
  db = openDatabase({ dataDir: dir, key, durability: 'full' }).db;
  db.exec('CREATE TABLE t (v INTEGER)');
  observer = openDatabase({ dataDir: dir, key, durability: 'full' }).db;
});
afterEach(() => {
  observer.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (v: number) => () => db.prepare('INSERT INTO t VALUES (?)').run(v);
const values = () => db.prepare('SELECT v FROM t ORDER BY v').pluck().all();

describe('group commit', () => {
  it('commits jobs submitted together in one transaction, rolling back only the one that failed', async () => {
    const committer = createGroupCommitter(db, () => {});
    const committedWhileRunning: number[] = [];
    const job = (v: number, fail = false) => ({
      run: () => {
        committedWhileRunning.push(observer.prepare('SELECT count(*) FROM t').pluck().get() as number);
        insert(v)();
        if (fail) throw new Error('conflict');
      },
    });
    const results = await Promise.allSettled([
      committer.submit(job(1)),
      committer.submit(job(2, true)),
      committer.submit(job(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(values()).toEqual([1, 3]);
    // No job ever saw an earlier one committed: all ran inside one transaction (one sync). The
    // failure made the flush run again with each job isolated: 2 runs until the failure, then 3.
    expect(committedWhileRunning).toEqual([0, 0, 0, 0, 0]);
    expect(observer.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2);
  });

  it('runs a flush without savepoints when every job succeeds', async () => {
    const committer = createGroupCommitter(db, () => {});
    const runs: number[] = [];
    const job = (v: number) => ({ run: () => (runs.push(v), insert(v)()) });
    await Promise.all([committer.submit(job(1)), committer.submit(job(2)), committer.submit(job(3))]);
    expect(runs).toEqual([1, 2, 3]);
    expect(values()).toEqual([1, 2, 3]);
  });

  it('rejects a lone failing job without running it twice', async () => {
    const committer = createGroupCommitter(db, () => {});
    let runs = 0;
    const failing = committer.submit({
      run: () => {
        runs += 1;
        insert(5)();
        throw new Error('conflict');
      },
    });
    await expect(failing).rejects.toThrow('conflict');
    expect(runs).toBe(1);
    expect(values()).toEqual([]);
  });

  it('resolves only after the commit and reports listener failures without failing the write', async () => {
    const failures: unknown[] = [];
    const committer = createGroupCommitter(db, (error) => failures.push(error));
    await committer.submit({
      run: insert(7),
      afterCommit: () => {
        throw new Error('listener broke');
      },
    });
    expect(values()).toEqual([7]);
    expect(failures).toHaveLength(1);
  });

  it('commits what is queued on close and refuses work afterwards', async () => {
    const committer = createGroupCommitter(db, () => {});
    const pending = committer.submit({ run: insert(9) });
    committer.close();
    await pending;
    expect(values()).toEqual([9]);
    await expect(committer.submit({ run: insert(10) })).rejects.toBeInstanceOf(StoreClosedError);
  });
});
