import type { SqliteDatabase } from '../db/index.js';
import { NotFoundError } from '../errors/index.js';
import type { Keyring } from '../kms/index.js';
import { FIELDS_KEY, wrapContext, type SubjectKeys } from './subject-keys.js';

/** Subject keys rewrapped per step: one short transaction, so ingest waits at most a few milliseconds. */
const STEP_ROWS = 256;

export interface RewrapStatus {
  status: 'running' | 'completed' | 'failed' | 'never_run';
  target_version?: number;
  total?: number;
  done?: number;
  /** Subject keys still wrapped under an older version of the fields key (any job aside). */
  remaining: number;
  error?: string;
  started_at?: string;
  finished_at?: string;
}

interface JobRow {
  tenant_id: string;
  target_version: number;
  total: number;
  done: number;
  status: 'running' | 'completed' | 'failed';
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface RewrapJobs {
  /** Starts (or returns the running) job moving the tenant's subject keys to the newest fields-key version. */
  start(tenantId: string): RewrapStatus;
  status(tenantId: string): RewrapStatus;
  /** Picks up jobs a previous process left running. */
  resume(): number;
  /** Stops scheduling steps; a running job resumes at the next start. */
  close(): void;
}

export interface RewrapJobDependencies {
  db: SqliteDatabase;
  keyring: Keyring;
  subjectKeys: SubjectKeys;
  now: () => number;
  /** Told about progress and failures (no key material is ever in them). */
  onProgress?: (tenantId: string, status: RewrapStatus) => void;
  /** Runs the next step later; setImmediate unless a test drives the steps itself. */
  schedule?: (step: () => void) => void;
  /** Subject keys per step; STEP_ROWS unless a test wants many small steps. */
  stepRows?: number;
}

/**
 * The rewrap job of DESIGN.md's field encryption: after the tenant rotates `allsource.fields`, it
 * re-encrypts every subject key's wrapping under the newest version (the keyring's rewrap: the key
 * never leaves it in clear), in small steps. Progress is the job row itself, so a restart resumes
 * where the last committed step stopped. The field ciphertexts inside events do not change: they
 * are under the subject keys, which stay the same; only their wrapping moves.
 */
export function createRewrapJobs(deps: RewrapJobDependencies): RewrapJobs {
  const { db, keyring, subjectKeys, now } = deps;
  const schedule = deps.schedule ?? ((step) => void setImmediate(step));
  const st = {
    get: db.prepare<[string], JobRow>('SELECT * FROM rewrap_jobs WHERE tenant_id = ?'),
    running: db.prepare<[], JobRow>(`SELECT * FROM rewrap_jobs WHERE status = 'running'`),
    upsert: db.prepare<[string, number, number, number]>(
      `INSERT INTO rewrap_jobs (tenant_id, target_version, total, done, status, error, started_at, finished_at)
       VALUES (?, ?, ?, 0, 'running', NULL, ?, NULL)
       ON CONFLICT (tenant_id) DO UPDATE SET target_version = excluded.target_version, total = excluded.total,
         done = 0, status = 'running', error = NULL, started_at = excluded.started_at, finished_at = NULL`,
    ),
    progress: db.prepare<[number, string]>('UPDATE rewrap_jobs SET done = done + ? WHERE tenant_id = ?'),
    finish: db.prepare<[string, string | null, number, string]>(
      'UPDATE rewrap_jobs SET status = ?, error = ?, finished_at = ? WHERE tenant_id = ?',
    ),
  };
  const active = new Set<string>();
  let closed = false;

  function latestVersion(tenantId: string): number | undefined {
    try {
      return keyring.getKey(tenantId, FIELDS_KEY).latest_version;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  function statusOf(tenantId: string): RewrapStatus {
    const version = latestVersion(tenantId);
    const remaining = version === undefined ? 0 : subjectKeys.statements.countToRewrap.get(tenantId, version)!.n;
    const row = st.get.get(tenantId);
    if (!row) return { status: 'never_run', remaining };
    return {
      status: row.status,
      target_version: row.target_version,
      total: row.total,
      done: row.done,
      remaining,
      ...(row.error === null ? {} : { error: row.error }),
      started_at: new Date(row.started_at).toISOString(),
      ...(row.finished_at === null ? {} : { finished_at: new Date(row.finished_at).toISOString() }),
    };
  }

  const step = db.transaction((tenantId: string, target: number): number => {
    const rows = subjectKeys.statements.toRewrap.all(tenantId, target, deps.stepRows ?? STEP_ROWS);
    for (const row of rows) {
      const wrapped = keyring.rewrap(tenantId, FIELDS_KEY, row.wrapped_key, wrapContext(row.entity_id, row.generation));
      const version = Number(/^as:v(\d+):/.exec(wrapped)![1]);
      subjectKeys.statements.setWrapped.run(wrapped, version, tenantId, row.entity_id, row.generation);
    }
    if (rows.length > 0) st.progress.run(rows.length, tenantId);
    else st.finish.run('completed', null, now(), tenantId);
    return rows.length;
  });

  function run(tenantId: string): void {
    if (closed) {
      active.delete(tenantId);
      return;
    }
    const job = st.get.get(tenantId);
    if (!job || job.status !== 'running') {
      active.delete(tenantId);
      return;
    }
    try {
      const moved = step(tenantId, job.target_version);
      // The cached keys still carry the version they were loaded with; reload them from the rows.
      if (moved > 0) subjectKeys.evict(tenantId);
      deps.onProgress?.(tenantId, statusOf(tenantId));
      if (moved === 0) {
        active.delete(tenantId);
        return;
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      st.finish.run('failed', typeof code === 'string' ? code : 'internal_error', now(), tenantId);
      active.delete(tenantId);
      deps.onProgress?.(tenantId, statusOf(tenantId));
      return;
    }
    schedule(() => run(tenantId));
  }

  function launch(tenantId: string): void {
    if (active.has(tenantId)) return;
    active.add(tenantId);
    schedule(() => run(tenantId));
  }

  return {
    start(tenantId) {
      const running = st.get.get(tenantId);
      if (running?.status === 'running') {
        launch(tenantId);
        return statusOf(tenantId);
      }
      const target = latestVersion(tenantId);
      if (target === undefined) {
        // No subject key was ever made: there is nothing to move.
        return statusOf(tenantId);
      }
      st.upsert.run(tenantId, target, subjectKeys.statements.countToRewrap.get(tenantId, target)!.n, now());
      launch(tenantId);
      return statusOf(tenantId);
    },

    status: statusOf,

    resume() {
      const rows = st.running.all();
      for (const row of rows) launch(row.tenant_id);
      return rows.length;
    },

    close() {
      closed = true;
    },
  };
}
