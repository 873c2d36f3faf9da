/**
 * Run by memory.ts in a process of its own, so that only the store's memory is measured:
 * ingests events in-process in batches of 1,000, then prints one JSON line (MemoryReport).
 * Usage: node --import tsx bench/memory-child.ts <data-dir> <events> <budget-ms> <seed>
 * The parent owns <data-dir> and removes it, even when this process is killed.
 */
import { createStoreWriter, openFreshDatabase, type BatchWriter } from './in-process.js';
import { nowMs } from './support.js';
import { BATCH_SIZE, createRng, makeBatch } from './workload.js';

export interface MemoryReport {
  requested: number;
  ingested: number;
  seconds: number;
  /** RSS with the store open and empty: the process's own floor. */
  baselineRssMb: number;
  rssAfterMb: number;
  /** V8's share of rssAfterMb: what JS objects hold, as opposed to SQLite's page cache and the runtime. */
  heapUsedMb: number;
  peakRssMb: number;
  /** Ingest rate over each successive WINDOW events. */
  windowRates: number[];
}

const MB = 2 ** 20;
const WINDOW = 100_000;

interface Ingested {
  ingested: number;
  seconds: number;
  windowRates: number[];
}

/** Batches are made one at a time: a million events held up front would be the largest thing measured. */
async function ingest(write: BatchWriter, events: number, budgetMs: number, seed: number): Promise<Ingested> {
  const rng = createRng(seed);
  const windowRates: number[] = [];
  let ingested = 0;
  const start = nowMs();
  let windowStart = start;
  while (ingested < events && nowMs() - start < budgetMs) {
    ingested += await write(makeBatch(rng, Math.min(BATCH_SIZE, events - ingested), 'order'));
    if (ingested % WINDOW === 0) {
      windowRates.push(WINDOW / ((nowMs() - windowStart) / 1000));
      windowStart = nowMs();
    }
  }
  return { ingested, seconds: (nowMs() - start) / 1000, windowRates };
}

async function main(dataDir: string, events: number, budgetMs: number, seed: number): Promise<MemoryReport> {
  const db = openFreshDatabase(dataDir);
  const writer = createStoreWriter(db);
  try {
    const baselineRssMb = process.memoryUsage().rss / MB;
    const run = await ingest(writer.write, events, budgetMs, seed);
    const memory = process.memoryUsage();
    // maxRSS is in kibibytes.
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    return {
      requested: events,
      ...run,
      baselineRssMb,
      rssAfterMb: memory.rss / MB,
      heapUsedMb: memory.heapUsed / MB,
      peakRssMb,
    };
  } finally {
    writer.close();
    db.close();
  }
}

const [dataDir, ...numbers] = process.argv.slice(2);
const [events, budgetMs, seed] = numbers.map(Number);
main(dataDir!, events!, budgetMs!, seed!).then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
