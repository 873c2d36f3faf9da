import type { SqliteDatabase } from '../../db/index.js';

/** One table of the schema, as copied: its name, how rows are addressed, and its row count. */
interface TablePlan {
  name: string;
  /** Column list for INSERT … SELECT; rowid tables also carry `rowid`, so implicit rowids survive. */
  columns: string;
  /** Ordered key: ['rowid'] for rowid tables, the primary-key columns for WITHOUT ROWID tables. */
  key: string[];
  rows: number;
}

export interface CopyProgress {
  table: string;
  done: number;
  total: number;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function planTables(db: SqliteDatabase): TablePlan[] {
  const tables = db
    .prepare<[], { name: string; type: string; wr: number }>(
      `SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
    )
    .all();
  return tables.map((table) => {
    if (table.type !== 'table') {
      throw new Error(`table ${table.name} is a ${table.type}, which the key rotation does not copy`);
    }
    const info = db
      .prepare<[string], { name: string; pk: number }>('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid')
      .all(table.name);
    const names = info.map((column) => quote(column.name));
    const key =
      table.wr === 1
        ? info
            .filter((column) => column.pk > 0)
            .sort((a, b) => a.pk - b.pk)
            .map((column) => quote(column.name))
        : ['rowid'];
    const columns = table.wr === 1 ? names.join(', ') : ['rowid', ...names].join(', ');
    const rows = (db.prepare(`SELECT count(*) AS n FROM main.${quote(table.name)}`).get() as { n: number }).n;
    return { name: table.name, columns, key, rows };
  });
}

/** The schema statements of `main`, tables first (before the copy) and the rest (after it). */
export function schemaOf(db: SqliteDatabase): { tables: string[]; rest: string[]; userVersion: number } {
  const rows = db
    .prepare<[], { type: string; sql: string }>(
      `SELECT type, sql FROM main.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`,
    )
    .all();
  return {
    tables: rows.filter((row) => row.type === 'table').map((row) => row.sql),
    // Indexes are built after the copy (faster), triggers after it too (they must not fire on copied rows).
    rest: rows.filter((row) => row.type !== 'table').map((row) => row.sql),
    userVersion: db.pragma('user_version', { simple: true }) as number,
  };
}

/**
 * Copies every row of `main` into the attached schema `target`, table by table, in chunks of
 * `chunkRows` found by keyset (never OFFSET from the start), reporting after each chunk.
 * SQLite copies values as they are (integers beyond 2^53, blobs), since no row passes through JS.
 * Returns the row count per table, for the check afterwards.
 */
export function copyRows(
  db: SqliteDatabase,
  target: string,
  chunkRows: number,
  onChunk: (progress: CopyProgress) => void,
): Map<string, number> {
  const tables = planTables(db);
  const total = tables.reduce((sum, table) => sum + table.rows, 0);
  let done = 0;
  for (const table of tables) {
    const keyList = table.key.join(', ');
    const from = `FROM main.${quote(table.name)}`;
    const tuple = `(${keyList})`;
    const params = `(${table.key.map(() => '?').join(', ')})`;
    const boundaryFirst = db
      .prepare(`SELECT ${keyList} ${from} ORDER BY ${keyList} LIMIT 1 OFFSET ?`)
      .raw()
      .safeIntegers(true);
    const boundaryNext = db
      .prepare(`SELECT ${keyList} ${from} WHERE ${tuple} > ${params} ORDER BY ${keyList} LIMIT 1 OFFSET ?`)
      .raw()
      // Exact keys: a rowid above 2^53 must not be rounded into the wrong chunk boundary.
      .safeIntegers(true);
    const insert = `INSERT INTO ${target}.${quote(table.name)} (${table.columns}) SELECT ${table.columns} ${from}`;
    const copyUpTo = db.prepare(`${insert} WHERE ${tuple} <= ${params}`);
    const copyBetween = db.prepare(`${insert} WHERE ${tuple} > ${params} AND ${tuple} <= ${params}`);
    const copyRest = db.prepare(`${insert} WHERE ${tuple} > ${params}`);
    const copyAll = db.prepare(insert);
    let after: unknown[] | undefined;
    for (;;) {
      const boundary = (
        after === undefined ? boundaryFirst.get(chunkRows - 1) : boundaryNext.get(...after, chunkRows - 1)
      ) as unknown[] | undefined;
      let copied: number;
      if (boundary === undefined) {
        copied = (after === undefined ? copyAll.run() : copyRest.run(...after)).changes;
      } else {
        copied = (after === undefined ? copyUpTo.run(...boundary) : copyBetween.run(...after, ...boundary)).changes;
      }
      done += copied;
      onChunk({ table: table.name, done, total });
      if (boundary === undefined) break;
      after = boundary;
    }
  }
  if (db.prepare(`SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'`).get()) {
    // AUTOINCREMENT counters: copied as they are (they may be above the largest id still present).
    db.exec(
      `DELETE FROM ${target}.sqlite_sequence; INSERT INTO ${target}.sqlite_sequence SELECT * FROM main.sqlite_sequence`,
    );
  }
  return new Map(tables.map((table) => [table.name, table.rows]));
}
