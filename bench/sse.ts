import { get, type ClientRequest } from 'node:http';
import { batchBodies, postBatch } from './http.js';
import { compared, type Figure } from './report.js';
import type { ServerProcess } from './server.js';
import { log, nowMs, withTimeout } from './support.js';
import { BATCH_SIZE } from './workload.js';

// Every event is "id: N\ndata: {...}\n\n" and JSON text never holds a raw newline, so this marks one event.
const EVENT_MARK = Buffer.from('\ndata: ');
const CONNECTED_MARK = ': connected';

/** One SSE client that only counts events: parsing them would make the client the bottleneck. */
interface Subscriber {
  readonly connected: Promise<void>;
  received(): number;
  /** Resolves once `count` events have arrived in total. */
  whenReceived(count: number): Promise<void>;
  close(): void;
}

function countMarks(buffer: Buffer): number {
  let count = 0;
  for (let at = buffer.indexOf(EVENT_MARK); at !== -1; at = buffer.indexOf(EVENT_MARK, at + EVENT_MARK.length)) count++;
  return count;
}

function subscribe(server: ServerProcess): Subscriber {
  let received = 0;
  let connected = false;
  // The end of the previous chunk, so that a mark split across two chunks is still counted once.
  let tail = Buffer.alloc(0);
  let waiter: { count: number; resolve(): void } | undefined;
  let request: ClientRequest | undefined;

  const connectedPromise = new Promise<void>((resolve, reject) => {
    const url = `${server.url}/api/v1/events/subscribe`;
    request = get(url, { agent: false, headers: server.authHeaders }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`subscribe answered ${response.statusCode}`));
      response.on('data', (chunk: Buffer) => {
        const joined = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
        if (!connected && joined.includes(CONNECTED_MARK)) {
          connected = true;
          resolve();
        }
        received += countMarks(joined);
        tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (EVENT_MARK.length - 1))));
        if (waiter && received >= waiter.count) waiter.resolve();
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });

  return {
    connected: connectedPromise,
    received: () => received,
    whenReceived(count) {
      if (received >= count) return Promise.resolve();
      return new Promise((resolve) => (waiter = { count, resolve }));
    },
    close: () => request?.destroy(),
  };
}

async function burst(server: ServerProcess, bodies: readonly string[]): Promise<void> {
  await Promise.all(bodies.map((body) => postBatch(server, body)));
}

export interface SseOptions {
  subscribers: number;
  batches: number;
  seed: number;
  timeoutMs: number;
}

/** Figure 5: a burst fanned out to live subscribers, against the same burst with nobody listening. */
export async function measureSse(server: ServerProcess, options: SseOptions): Promise<Figure> {
  const events = options.batches * BATCH_SIZE;
  let start = nowMs();
  await burst(server, batchBodies(options.seed, events, 'sse-alone'));
  const aloneMs = nowMs() - start;

  const bodies = batchBodies(options.seed + 1, events, 'sse-fanout');
  const subscribers = Array.from({ length: options.subscribers }, () => subscribe(server));
  try {
    await withTimeout(10_000, 'connecting subscribers', Promise.all(subscribers.map((s) => s.connected)));
    start = nowMs();
    const delivered = Promise.all(subscribers.map((s) => s.whenReceived(events)));
    await burst(server, bodies);
    const ackMs = nowMs() - start;
    await withTimeout(options.timeoutMs, 'delivering the burst', delivered);
    const deliveredMs = nowMs() - start;
    log(`SSE: burst acknowledged in ${ackMs.toFixed(0)} ms, delivered to all in ${deliveredMs.toFixed(0)} ms`);
    const extra = subscribers.filter((s) => s.received() !== events).length;
    const figure = compared(
      `SSE ${options.subscribers} subscribers, ${events.toLocaleString('en-US')}-event burst: all delivered`,
      deliveredMs,
      'ms',
      { name: 'same burst, no subscribers', value: aloneMs, unit: 'ms' },
      'lower-is-better',
    );
    figure.note =
      `${options.batches} concurrent batch POSTs; subscribers and POSTs each with an API key; acknowledged after ${ackMs.toFixed(0)} ms with subscribers` +
      (extra > 0 ? `; ${extra} subscribers received more events than were sent` : '');
    return figure;
  } finally {
    for (const subscriber of subscribers) subscriber.close();
  }
}
