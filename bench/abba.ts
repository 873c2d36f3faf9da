import { singleEventBody } from './http.js';
import { runLoad, type LoadResult } from './load.js';
import { compared, type Figure } from './report.js';
import type { ServerProcess } from './server.js';
import { summarise } from './support.js';

/** One side's requests, pooled over its turns. */
export interface Pooled {
  ok: number;
  seconds: number;
  latenciesMs: number[];
  /** Requests per second over the recorded turns. */
  readonly rps: number;
}

export interface AbbaOptions {
  connections: number;
  /** Recorded seconds per side, run as 2 × `rounds` turns in ABBA order (ABBA ABBA … ). */
  durationS: number;
  /**
   * ABBA repeats (default 1). Each turn of a few seconds may or may not hold one of SQLite's WAL
   * checkpoints (every 64 MiB written, tens of milliseconds on the request thread), which moves a
   * 2-second turn's rate by several percent; more turns average that out.
   */
  rounds?: number;
}

function pooled(): Pooled {
  return {
    ok: 0,
    seconds: 0,
    latenciesMs: [],
    get rps() {
      return this.ok / this.seconds;
    },
  };
}

function pool(into: Pooled, result: LoadResult): void {
  if (result.failed > 0) throw new Error(`${result.failed} appends failed (refused or errors)`);
  into.ok += result.ok;
  into.seconds += result.seconds;
  into.latenciesMs.push(...result.latenciesMs);
}

/**
 * Single-event appends against two servers that differ in one setting: 1 s of unrecorded warm-up
 * each (JIT, caches, an API key's one argon2 verification), then turns in ABBA order, repeated
 * `rounds` times, so that other programs on the machine weigh on both sides alike. Each server
 * is sent its own authHeaders.
 */
export async function appendAbba(a: ServerProcess, b: ServerProcess, options: AbbaOptions): Promise<[Pooled, Pooled]> {
  const load = (server: ServerProcess, durationS: number) =>
    runLoad({
      url: `${server.url}/api/v1/events`,
      method: 'POST',
      headers: server.authHeaders,
      body: singleEventBody(),
      idReplacement: true,
      connections: options.connections,
      durationS,
    });
  for (const server of [a, b]) pool(pooled(), await load(server, 1));
  const rounds = options.rounds ?? 1;
  const turn = options.durationS / (2 * rounds);
  const [sideA, sideB] = [pooled(), pooled()];
  for (let round = 0; round < rounds; round++) {
    pool(sideA, await load(a, turn));
    pool(sideB, await load(b, turn));
    pool(sideB, await load(b, turn));
    pool(sideA, await load(a, turn));
  }
  return [sideA, sideB];
}

/**
 * The two figures of an on/off comparison: requests per second as a ratio of the "off" side (with
 * its target), and p99 latency against the "off" side's.
 */
export function onOffFigures(options: {
  name: string;
  on: Pooled;
  off: Pooled;
  /** How the other side differs, e.g. "ALLSOURCE_AUDIT=off". */
  offSetting: string;
  /** The same, short, for the latency limit: "auditing off". */
  offLabel: string;
  minRatio: number;
  note: string;
}): Figure[] {
  const { name, on, off } = options;
  const rps = compared(
    name,
    on.rps,
    'requests/s',
    { name: `same append, ${options.offSetting}`, value: off.rps, unit: 'requests/s' },
    'higher-is-better',
    options.minRatio,
  );
  rps.note = options.note;
  const p99 = compared(
    `${name} p99`,
    summarise(on.latenciesMs).p99,
    'ms',
    { name: `${options.offLabel} p99`, value: summarise(off.latenciesMs).p99, unit: 'ms' },
    'lower-is-better',
  );
  return [rps, p99];
}
