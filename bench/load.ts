import autocannon, { type Options } from 'autocannon';
import { summarise, type LatencySummary } from './support.js';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  /** Sent with every request, e.g. a server's authHeaders; content-type is added when there is a body. */
  headers?: Readonly<Record<string, string>>;
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
  /** Every 2xx response's latency, in ms, in arrival order: to pool several runs. */
  latenciesMs: number[];
}

function autocannonOptions(options: LoadOptions, durationS: number): Options {
  const headers = {
    ...options.headers,
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
  };
  return {
    url: options.url,
    method: options.method ?? 'GET',
    connections: options.connections,
    duration: durationS,
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
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
    latenciesMs: latencies,
  };
}
