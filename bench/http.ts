import { runLoad } from './load.js';
import { compared, type Figure } from './report.js';
import type { ServerProcess } from './server.js';
import { log, nowMs } from './support.js';
import { makeBatches, makeEvent, createRng, BATCH_SIZE, type BenchEvent } from './workload.js';

/** POSTs a JSON text to `path` with the server's credential; throws unless the reply is 201, and returns its text. */
export async function postJson(server: ServerProcess, path: string, body: string): Promise<string> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { ...server.authHeaders, 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Serialised `{events:[...]}` bodies, built before any timing starts. */
export function batchBodies(seed: number, events: number, prefix: string): string[] {
  return makeBatches(seed, events, prefix).map((events) => JSON.stringify({ events }));
}

export async function postBatch(server: ServerProcess, body: string): Promise<void> {
  const text = await postJson(server, '/api/v1/events/batch', body);
  // The reply starts {"total":1000,"ingested":1000,...; parsing all of it would only cost the client CPU.
  if (!text.startsWith(`{"total":${BATCH_SIZE},"ingested":${BATCH_SIZE},`)) {
    throw new Error(`unexpected batch reply: ${text.slice(0, 200)}`);
  }
}

/** `connections` loops, each POSTing the next unsent body until none is left. */
async function postAll(server: ServerProcess, bodies: readonly string[], connections: number): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < bodies.length) await postBatch(server, bodies[next++]!);
  };
  await Promise.all(Array.from({ length: connections }, loop));
}

export interface BatchIngestOptions {
  requests: number;
  connections: number;
  seed: number;
}

/** Figure 2: batch ingest over HTTP against the in-process store figure of the same run. */
export async function measureBatchIngest(
  server: ServerProcess,
  options: BatchIngestOptions,
  inProcessEventsPerSecond: number,
): Promise<Figure> {
  await postAll(server, batchBodies(options.seed + 1, options.connections * BATCH_SIZE, 'warm'), options.connections);
  const bodies = batchBodies(options.seed, options.requests * BATCH_SIZE, 'order');
  const start = nowMs();
  await postAll(server, bodies, options.connections);
  const seconds = (nowMs() - start) / 1000;
  const eventsPerSecond = (options.requests * BATCH_SIZE) / seconds;
  log(`HTTP batch ingest: ${Math.round(eventsPerSecond)} ev/s`);
  const figure = compared(
    `HTTP batch ingest (1,000/request, ${options.connections} connections)`,
    eventsPerSecond,
    'events/s',
    { name: 'in-process append', value: inProcessEventsPerSecond, unit: 'events/s' },
    'higher-is-better',
    0.6,
  );
  figure.note = `${options.requests} requests of 1,000 events after ${options.connections} warm-up requests, each with an API key`;
  return figure;
}

/** One event per request; `[<id>]` becomes a fresh id, so every request starts a new entity stream. */
export function singleEventBody(): string {
  const event: BenchEvent = makeEvent(createRng(7), 'single-[<id>]');
  return JSON.stringify({ ...event, event_type: 'bench.single' });
}

export interface SingleAppendOptions {
  connections: number;
  durationS: number;
}

/** Figure 3: POST /api/v1/events against GET /health, both under the same closed-loop load. */
export async function measureSingleAppend(server: ServerProcess, options: SingleAppendOptions): Promise<Figure[]> {
  const load = { connections: options.connections, durationS: options.durationS, warmupS: 1 };
  const health = await runLoad({ ...load, url: `${server.url}/health` });
  const append = await runLoad({
    ...load,
    url: `${server.url}/api/v1/events`,
    method: 'POST',
    headers: server.authHeaders,
    body: singleEventBody(),
    idReplacement: true,
  });
  if (append.failed > 0 || health.failed > 0) {
    throw new Error(`requests failed: append ${append.failed}, health ${health.failed}`);
  }
  log(
    `HTTP single append: ${Math.round(append.requestsPerSecond)} req/s, health ${Math.round(health.requestsPerSecond)} req/s`,
  );
  const name = `HTTP single append (${options.connections} connections)`;
  const rps = compared(
    name,
    append.requestsPerSecond,
    'requests/s',
    { name: 'GET /health', value: health.requestsPerSecond, unit: 'requests/s' },
    'higher-is-better',
    0.4,
  );
  rps.note =
    `${append.ok} appends in ${append.seconds} s, each a new entity, each with an API key (X-API-Key); ` +
    '/health measured the same way but with no credential, as it is public';
  return [
    rps,
    compared(
      `${name} p50`,
      append.latency.p50,
      'ms',
      { name: 'GET /health p50', value: health.latency.p50, unit: 'ms' },
      'lower-is-better',
    ),
    compared(
      `${name} p99`,
      append.latency.p99,
      'ms',
      { name: 'GET /health p99', value: health.latency.p99, unit: 'ms' },
      'lower-is-better',
    ),
  ];
}
