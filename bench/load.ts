import autocannon, { type Options } from 'autocannon';
import { summarise, type LatencySummary } from './support.js';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  /** Replaces each `[<id>]` in the body with a fresh random id, e.g. one entity per request. */
  idReplacement?: boolean;
  connections: number;
  durationS: number;
  /** An unrecorded run first, so that JIT and caches are warm for the recorded one. */
  warmupS?: number;
}

export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  requestsPerSecond: number;
  latency: LatencySummary;
}

function autocannonOptions(options: LoadOptions, durationS: number): Options {
  return {
    url: options.url,
    method: options.method ?? 'GET',
    connections: options.connections,
    duration: durationS,
    ...(options.body === undefined ? {} : { body: options.body, headers: { 'content-type': 'application/json' } }),
    ...(options.idReplacement ? { idReplacement: true } : {}),
  };
}

/**
 * Closed-loop load with autocannon. Latencies are taken from its 'response' events rather than
 * its histogram, which keeps whole milliseconds only: sub-millisecond figures need the fractions.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupS) await autocannon(autocannonOptions(options, options.warmupS));
  const latencies: number[] = [];
  const instance = autocannon(autocannonOptions(options, options.durationS));
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    ok: latencies.length,
    failed,
    seconds: result.duration,
    requestsPerSecond: latencies.length / result.duration,
    latency: summarise(latencies),
  };
}
