import { openDatabase, type SqliteDatabase } from '../src/server/db/index.js';
import { deriveKey, parseMasterKeyHex } from '../src/server/kms/index.js';
import { postJson } from './http.js';
import { runLoad } from './load.js';
import { compared, type Figure } from './report.js';
import type { ServerProcess } from './server.js';
import { log, nowMs, summarise, type LatencySummary } from './support.js';
import { makeStream } from './workload.js';

const STREAM_EVENTS = 1_000;
const TYPE_LIMIT = 100;

/** The same columns and joins the store reads (statements.ts), as one fixed statement per shape. */
const SELECT = `SELECT e.position, e.event_id, s.entity_id, t.event_type, e.version, e.timestamp, e.payload, e.metadata
  FROM events e JOIN streams s ON s.stream_id = e.stream_id JOIN event_types t ON t.type_id = e.type_id`;
const BY_ENTITY = `${SELECT} WHERE s.tenant_id = 'default' AND s.entity_id = ? ORDER BY e.version`;
const BY_TYPE = `${SELECT} WHERE t.tenant_id = 'default' AND t.event_type = ? ORDER BY e.position LIMIT ${TYPE_LIMIT}`;

interface ReadCase {
  name: string;
  path: string;
  sql: string;
  parameter: string;
  expectedCount: number;
}

/** Opens the server's own file through a second connection (WAL lets it read beside the writer). */
function openServerFile(server: ServerProcess): SqliteDatabase {
  const key = deriveKey(parseMasterKeyHex(server.masterKeyHex, 'bench'), 'allsource/sqlcipher');
  return openDatabase({ dataDir: server.dataDir, key, durability: 'full' }).db;
}

/** The limit: the raw driver reading the same rows in-process, with no HTTP and no JSON. */
function rawReadLatency(db: SqliteDatabase, readCase: ReadCase, durationMs: number): LatencySummary {
  const statement = db.prepare(readCase.sql);
  const latencies: number[] = [];
  const until = nowMs() + durationMs;
  while (nowMs() < until) {
    const start = nowMs();
    const rows = statement.all(readCase.parameter);
    latencies.push(nowMs() - start);
    if (rows.length !== readCase.expectedCount) throw new Error(`${readCase.name}: raw read found ${rows.length} rows`);
  }
  return summarise(latencies);
}

async function checkAnswer(server: ServerProcess, readCase: ReadCase): Promise<void> {
  const response = await fetch(`${server.url}${readCase.path}`, { headers: server.authHeaders });
  const body = (await response.json()) as { count?: number };
  if (response.status !== 200 || body.count !== readCase.expectedCount) {
    throw new Error(`${readCase.name}: GET ${readCase.path} answered ${response.status} with count ${body.count}`);
  }
}

export interface ReadOptions {
  seed: number;
  durationS: number;
  /** An event type the server already holds at least TYPE_LIMIT events of. */
  eventType: string;
}

function readCases(entityId: string, eventType: string): ReadCase[] {
  return [
    {
      name: `read one ${STREAM_EVENTS.toLocaleString('en-US')}-event stream`,
      path: `/api/v1/events/query?entity_id=${entityId}`,
      sql: BY_ENTITY,
      parameter: entityId,
      expectedCount: STREAM_EVENTS,
    },
    {
      name: `query by type, limit ${TYPE_LIMIT}`,
      path: `/api/v1/events/query?event_type=${eventType}&limit=${TYPE_LIMIT}`,
      sql: BY_TYPE,
      parameter: eventType,
      expectedCount: TYPE_LIMIT,
    },
  ];
}

/** One client, one request at a time: the latency of the read itself, not of a queue. */
async function measureRead(
  server: ServerProcess,
  db: SqliteDatabase,
  readCase: ReadCase,
  durationS: number,
): Promise<Figure[]> {
  await checkAnswer(server, readCase);
  const http = await runLoad({
    url: `${server.url}${readCase.path}`,
    headers: server.authHeaders,
    connections: 1,
    durationS,
    warmupS: 1,
  });
  if (http.failed > 0) throw new Error(`${readCase.name}: ${http.failed} requests failed`);
  const raw = rawReadLatency(db, readCase, 1000);
  log(`${readCase.name}: p50 ${http.latency.p50.toFixed(2)} ms (raw ${raw.p50.toFixed(2)} ms)`);
  const limit = (quantile: 'p50' | 'p99') => ({ name: `raw SELECT ${quantile}`, value: raw[quantile], unit: 'ms' });
  const p50 = compared(`${readCase.name} p50`, http.latency.p50, 'ms', limit('p50'), 'lower-is-better');
  p50.note = `GET ${readCase.path} with an API key, 1 connection, ${http.ok} requests; limit: the same rows read in-process by the raw driver`;
  return [p50, compared(`${readCase.name} p99`, http.latency.p99, 'ms', limit('p99'), 'lower-is-better')];
}

/** Figure 4: reading one 1,000-event stream, then the first 100 events of a type. */
export async function measureReads(server: ServerProcess, options: ReadOptions): Promise<Figure[]> {
  const entityId = 'read-stream-1';
  const stream = makeStream(options.seed, entityId, STREAM_EVENTS);
  await postJson(server, '/api/v1/events/batch', JSON.stringify({ events: stream }));
  const db = openServerFile(server);
  try {
    const figures: Figure[] = [];
    for (const readCase of readCases(entityId, options.eventType)) {
      figures.push(...(await measureRead(server, db, readCase, options.durationS)));
    }
    return figures;
  } finally {
    db.close();
  }
}
