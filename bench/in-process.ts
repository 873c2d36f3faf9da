import { openDatabase, type SqliteDatabase } from '../src/server/db/index.js';
import { deriveKey, generateMasterKey } from '../src/server/kms/index.js';
import { createEventIdGenerator, createEventStore, type PayloadSealer } from '../src/server/store/index.js';
import { compared, type Figure } from './report.js';
import { log, nowMs, type Resources } from './support.js';
import { makeBatches, type BenchEvent } from './workload.js';

const TENANT = 'default';

export interface IngestRun {
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

export interface InProcessOptions {
  events: number;
  /** Batches written to one side before switching to the other. */
  chunkBatches: number;
  seed: number;
}

/**
 * A fresh encrypted database through the product's own openDatabase, so the limit and the store
 * share the schema, the cipher settings and every pragma (WAL, synchronous FULL, cache size).
 */
export function openFreshDatabase(dataDir: string): SqliteDatabase {
  const key = deriveKey(generateMasterKey(), 'allsource/sqlcipher');
  return openDatabase({ dataDir, key, durability: 'full' }).db;
}

/** Writes one batch of 1,000 and resolves once it is committed (and synced); returns the events stored. */
export type BatchWriter = (batch: readonly BenchEvent[]) => Promise<number> | number;

/** The product: createEventStore, one appendBatch per 1,000 events, each awaited. */
export function createStoreWriter(db: SqliteDatabase, sealer?: PayloadSealer): { write: BatchWriter; close(): void } {
  const store = createEventStore({
    db,
    now: Date.now,
    // The server's own id generator (app.ts); the limit gets one too, so ids cost both sides the same.
    newEventId: createEventIdGenerator(),
    // Nothing subscribes here, so this cannot happen; if it did, the figure would still stand.
    onListenerError: (error) => console.error(error),
    ...(sealer ? { sealer } : {}),
  });
  return {
    write: async (batch) => (await store.appendBatch(TENANT, batch)).ingested,
    close: () => store.close(),
  };
}

interface Interned {
  id: number;
  name: string;
  /** The stream's version, or the type's event count, including the batch being written. */
  count: number;
  /** False until the row exists in SQLite. */
  stored: boolean;
}

/** Ids are handed out in order of first appearance, as SQLite's rowids are in the store. */
function intern(map: Map<string, Interned>, name: string): Interned {
  let entry = map.get(name);
  if (!entry) {
    entry = { id: map.size + 1, name, count: 0, stored: false };
    map.set(name, entry);
  }
  return entry;
}

/**
 * The limit: what a hand-written loop over the raw driver does to reach the same end state.
 * Stream and type ids live in JS maps instead of being looked up; each stream and type row is
 * written once per batch; no validation, no savepoints, no results, no feed. Payloads are
 * serialised inside the loop, as any writer starting from objects must.
 */
function createRawWriter(db: SqliteDatabase): (batch: readonly BenchEvent[]) => number {
  const insertEvent = db.prepare(
    `INSERT INTO events (tenant_id, position, event_id, stream_id, version, type_id, timestamp, payload, metadata)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
  );
  const insertStream = db.prepare(
    'INSERT INTO streams (stream_id, tenant_id, entity_id, version, last_event_at) VALUES (?, ?, ?, ?, ?)',
  );
  const updateStream = db.prepare('UPDATE streams SET version = ?, last_event_at = ? WHERE stream_id = ?');
  const insertType = db.prepare(
    'INSERT INTO event_types (type_id, tenant_id, event_type, event_count, last_event_at) VALUES (?, ?, ?, ?, ?)',
  );
  const updateType = db.prepare('UPDATE event_types SET event_count = ?, last_event_at = ? WHERE type_id = ?');
  const newEventId = createEventIdGenerator();
  const streams = new Map<string, Interned>();
  const types = new Map<string, Interned>();
  let position = 0;

  function saveStreams(touched: Set<Interned>, timestamp: number): void {
    for (const s of touched) {
      if (s.stored) updateStream.run(s.count, timestamp, s.id);
      else insertStream.run(s.id, TENANT, s.name, s.count, timestamp);
      s.stored = true;
    }
  }

  function saveTypes(touched: Set<Interned>, timestamp: number): void {
    for (const t of touched) {
      if (t.stored) updateType.run(t.count, timestamp, t.id);
      else insertType.run(t.id, TENANT, t.name, t.count, timestamp);
      t.stored = true;
    }
  }

  return db.transaction((batch: readonly BenchEvent[]): number => {
    const timestamp = Date.now();
    const touchedStreams = new Set<Interned>();
    const touchedTypes = new Set<Interned>();
    for (const event of batch) {
      const stream = intern(streams, event.entity_id);
      const type = intern(types, event.event_type);
      touchedStreams.add(stream);
      touchedTypes.add(type);
      stream.count += 1;
      type.count += 1;
      position += 1;
      const payload = JSON.stringify(event.payload);
      insertEvent.run(TENANT, position, newEventId(), stream.id, stream.count, type.id, timestamp, payload);
    }
    saveStreams(touchedStreams, timestamp);
    saveTypes(touchedTypes, timestamp);
    return batch.length;
  });
}

export interface Side {
  write: BatchWriter;
  events: number;
  ms: number;
}

async function timeChunk(side: Side, chunk: readonly BenchEvent[][]): Promise<void> {
  const start = nowMs();
  for (const batch of chunk) side.events += await side.write(batch);
  side.ms += nowMs() - start;
}

export function toRun(side: Side): IngestRun {
  const seconds = side.ms / 1000;
  return { events: side.events, seconds, eventsPerSecond: side.events / seconds };
}

/**
 * Both sides write the same batches into their own fresh file, taking turns chunk by chunk
 * (ABBA order), so that the other programs sharing these two cores, page-cache writeback and
 * WAL checkpoints fall on both sides alike instead of deciding the ratio.
 */
export async function interleave(raw: Side, store: Side, batches: readonly BenchEvent[][], chunkBatches: number) {
  for (let at = 0, turn = 0; at < batches.length; at += chunkBatches, turn++) {
    const chunk = batches.slice(at, at + chunkBatches);
    const [first, second] = turn % 2 === 0 ? [raw, store] : [store, raw];
    await timeChunk(first, chunk);
    await timeChunk(second, chunk);
  }
}

export interface InProcessResult {
  figure: Figure;
  store: IngestRun;
  limit: IngestRun;
}

/** Figure 1: the store's append path against the raw driver, into fresh encrypted files. */
export async function measureInProcess(resources: Resources, options: InProcessOptions): Promise<InProcessResult> {
  const batches = makeBatches(options.seed, options.events);
  const rawDb = openFreshDatabase(resources.tempDir('raw'));
  const storeDb = openFreshDatabase(resources.tempDir('store'));
  const storeWriter = createStoreWriter(storeDb);
  const raw: Side = { write: createRawWriter(rawDb), events: 0, ms: 0 };
  const store: Side = { write: storeWriter.write, events: 0, ms: 0 };
  try {
    await interleave(raw, store, batches, options.chunkBatches);
  } finally {
    storeWriter.close();
    storeDb.close();
    rawDb.close();
  }
  const limitRun = toRun(raw);
  const storeRun = toRun(store);
  log(
    `in-process: raw ${Math.round(limitRun.eventsPerSecond)} ev/s, store ${Math.round(storeRun.eventsPerSecond)} ev/s`,
  );
  const figure = compared(
    `in-process append (${options.events.toLocaleString('en-US')} ev, batches of 1,000)`,
    storeRun.eventsPerSecond,
    'events/s',
    { name: 'raw driver, same schema', value: limitRun.eventsPerSecond, unit: 'events/s' },
    'higher-is-better',
    0.8,
  );
  figure.note = `store and raw driver take turns every ${options.chunkBatches} batches; fresh encrypted files, durability full`;
  return { figure, store: storeRun, limit: limitRun };
}
