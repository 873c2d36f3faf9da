import type { SqliteDatabase } from '../db/index.js';
import { StoreClosedError } from './errors.js';

/**
 * One unit of work: `run` executes inside the shared transaction and may run more than once
 * (so outside the database it may only forget cached state); `afterCommit` runs once it is durable.
 */
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
 * one fsync. A job that throws (a version conflict, say) is rolled back alone and the others
 * still commit.
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

  type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
  const rollback = db.prepare('ROLLBACK');

  /**
   * Runs every job in one transaction. Without savepoints, the first failure rolls the whole
   * transaction back and returns undefined; with them, a failing job is undone alone.
   */
  function runAll(jobs: QueuedJob[], isolateJobs: boolean): Outcome[] | undefined {
    const outcomes: Outcome[] = [];
    begin.run();
    for (const queued of jobs) {
      if (isolateJobs) savepoint.run();
      try {
        outcomes.push({ ok: true, value: queued.job.run() });
        if (isolateJobs) release.run();
      } catch (error) {
        if (!isolateJobs) {
          rollback.run();
          return jobs.length === 1 ? [{ ok: false, error }] : undefined;
        }
        rollbackTo.run();
        release.run();
        outcomes.push({ ok: false, error });
      }
    }
    commit.run();
    return outcomes;
  }

  function flush(): void {
    scheduled = false;
    const jobs = queue;
    queue = [];
    if (jobs.length === 0) return;
    let outcomes: Outcome[];
    try {
      // Savepoints are not free: SQLite copies every page a savepoint touches into a
      // sub-journal, a tenth of the cost of a large append. Almost every flush succeeds whole,
      // so try without them, and only when a job fails run the flush again with each job in
      // its own savepoint. Jobs are plain functions of the database, so running one twice is safe.
      outcomes = runAll(jobs, false) ?? (runAll(jobs, true) as Outcome[]);
    } catch (error) {
      if (db.inTransaction) rollback.run();
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
