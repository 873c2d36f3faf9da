import type { SqliteDatabase } from '../db/index.js';
import { StoreClosedError } from './errors.js';

/** One unit of work: `run` executes inside the shared transaction; `afterCommit` runs once it is durable. */
export interface WriteJob<T> {
  run(): T;
  afterCommit?(result: T): void;
}

interface QueuedJob {
  job: WriteJob<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface GroupCommitter {
  /** Queues a job; resolves once the transaction holding it has committed (and, with durability full, been synced). */
  submit<T>(job: WriteJob<T>): Promise<T>;
  /** Commits whatever is queued now, then refuses new jobs. */
  close(): void;
}

/**
 * Group commit: jobs submitted during one turn of the event loop share one transaction and so
 * one fsync. Each job runs inside its own savepoint, so a job that throws (a version
 * conflict, say) is rolled back alone and the others still commit.
 */
export function createGroupCommitter(db: SqliteDatabase, onListenerError: (error: unknown) => void): GroupCommitter {
  let queue: QueuedJob[] = [];
  let scheduled = false;
  let closed = false;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const savepoint = db.prepare('SAVEPOINT job');
  const release = db.prepare('RELEASE job');
  const rollbackTo = db.prepare('ROLLBACK TO job');

  function flush(): void {
    scheduled = false;
    const jobs = queue;
    queue = [];
    if (jobs.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      begin.run();
    } catch (error) {
      for (const queued of jobs) queued.reject(error);
      return;
    }
    for (const queued of jobs) {
      savepoint.run();
      try {
        const value = queued.job.run();
        release.run();
        outcomes.push({ ok: true, value });
      } catch (error) {
        rollbackTo.run();
        release.run();
        outcomes.push({ ok: false, error });
      }
    }
    try {
      commit.run();
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const queued of jobs) queued.reject(error);
      return;
    }
    jobs.forEach((queued, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) {
        queued.reject(outcome.error);
        return;
      }
      // The data is durable whatever a listener does; the caller must still hear that it succeeded.
      try {
        queued.job.afterCommit?.(outcome.value);
      } catch (error) {
        onListenerError(error);
      }
      queued.resolve(outcome.value);
    });
  }

  return {
    submit<T>(job: WriteJob<T>): Promise<T> {
      if (closed) return Promise.reject(new StoreClosedError());
      return new Promise<T>((resolve, reject) => {
        queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    close(): void {
      closed = true;
      flush();
    },
  };
}
