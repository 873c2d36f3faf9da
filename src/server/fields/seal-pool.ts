import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SealKey } from './seal-core.js';
import {
  allocateSealMemory,
  ANSWER_LENGTH,
  ANSWER_OFFSET,
  DONE,
  FIRST_OF_JOB,
  FLAGS,
  KEY_BYTES,
  READY,
  REQUEST_HEADER_BYTES,
  REQUEST_OFFSET,
  SEALED,
  SLOT_INTS,
  SLOTS,
  STATUS,
  STOP,
  SUBMITTED,
  type SealWorkerData,
} from './seal-protocol.js';

/**
 * The main thread's side of the seal worker. An append job with many sealed events hands each
 * event's values to the worker as it goes and collects the sealed record just before writing the
 * row, so the AES-GCM work of a large batch runs on another core while this thread writes rows.
 * Whenever the worker cannot answer (not started yet, no room, an error, gone), the caller seals
 * on the main thread instead: the worker only ever makes sealing faster, never different.
 */
export interface SealPool {
  /** Starts the worker, if it is not running, so that it is ready when a large append comes. */
  warm(): void;
  /** Starts one job's requests; undefined when the worker cannot take one now. */
  beginJob(): SealPoolJob | undefined;
  status(): SealWorkerStatus;
  close(): void;
}

/** What the seal worker is doing: `idle` until a field policy exists or a large append comes. */
export interface SealWorkerStatus {
  state: 'idle' | 'starting' | 'ready' | 'unavailable' | 'closed';
  /** Events it sealed. */
  sealed: number;
  /** Why it is unavailable (then every event is sealed on the main thread). */
  reason?: string;
}

export interface SealPoolJob {
  /** Hands one event's values over; undefined when they do not fit (seal them on the main thread). */
  submit(
    key: SealKey,
    tenantId: string,
    entityId: string,
    eventId: string,
    pointersJson: string,
    valuesJson: string,
  ): number | undefined;
  /** The sealed record of a submitted event, or undefined when the worker could not seal it. */
  collect(ticket: number): Buffer | undefined;
}

export interface SealPoolOptions {
  /** The worker's module; by default seal-worker beside this file (its .ts form under tsx). */
  workerUrl?: URL;
  /** How long a job waits for one answer before it gives the worker up (default 5 s). */
  answerTimeoutMs?: number;
  /** Bytes of values a job may hand over (default 8 MiB); answers get twice as much. */
  arenaBytes?: number;
  /** Told once when the worker is given up, and why. */
  onUnavailable?: (reason: string) => void;
  /** The shared memory (allocateSealMemory), when the caller wants to look into it; by default made here of arenaBytes. */
  memory?: SealWorkerData;
}

/** Requests handed over between two wake-ups of the worker. */
const WAKE_EVERY = 16;

/**
 * Writes one text of a request and, in the request's header, its length in bytes (at most 3 per
 * UTF-16 unit: the caller checked there is room); answers the offset after it.
 */
function putText(requests: Buffer, requestAt: number, field: number, text: string, offset: number): number {
  const written = requests.write(text, offset, 'utf8');
  requests.writeUInt32BE(written, requestAt + KEY_BYTES + 4 + field * 4);
  return offset + written;
}

/** The worker's module, and how to start it: run from sources (tsx, vitest), it needs tsx's loader. */
function defaultWorker(): { url: URL; bootstrap?: string } {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return { url: new URL('./seal-worker.js', self) };
  const url = new URL('./seal-worker.ts', self);
  return {
    url,
    bootstrap: `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
  };
}

export function createSealPool(options: SealPoolOptions = {}): SealPool {
  const arenaBytes = options.arenaBytes ?? 8 * 1024 * 1024;
  const timeoutMs = options.answerTimeoutMs ?? 5_000;
  const data: SealWorkerData = options.memory ?? allocateSealMemory(arenaBytes);
  const control = new Int32Array(data.control);
  const index = new Int32Array(data.index);
  const requests = Buffer.from(data.requests);
  const answers = Buffer.from(data.answers);
  let worker: Worker | undefined;
  let broken = false;
  let unavailable: string | undefined;
  let closed = false;
  let sealedCount = 0;

  function giveUp(reason: string | undefined): void {
    if (broken) return;
    broken = true;
    unavailable = reason;
    if (reason) options.onUnavailable?.(reason);
    // Keys of requests never answered must not stay in shared memory.
    requests.fill(0);
    Atomics.store(control, STOP, 1);
    Atomics.notify(control, SUBMITTED);
    void worker?.terminate();
  }

  function start(): void {
    const { url, bootstrap } = options.workerUrl ? { url: options.workerUrl, bootstrap: undefined } : defaultWorker();
    if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
      giveUp(`the seal worker ${fileURLToPath(url)} is missing`);
      return;
    }
    try {
      worker = bootstrap
        ? new Worker(bootstrap, { eval: true, workerData: data })
        : new Worker(url, { workerData: data });
    } catch (error) {
      giveUp(`the seal worker did not start: ${(error as Error).message}`);
      return;
    }
    // Neither keeps the process alive: a job never waits for the worker to start (READY).
    worker.unref();
    worker.on('error', (error) => giveUp(`the seal worker failed: ${error.message}`));
    worker.on('exit', (code) => giveUp(`the seal worker exited (code ${code})`));
  }

  /** Waits until the worker answered `count` requests; false when it did not in time. */
  function waitForDone(count: number): boolean {
    if (Atomics.load(control, DONE) >= count) return true;
    // It may be asleep with requests waiting: submit wakes it only now and then.
    Atomics.notify(control, SUBMITTED);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(control, DONE);
      if (done >= count) return true;
      const left = deadline - Date.now();
      if (left <= 0 || broken) return false;
      Atomics.wait(control, DONE, done, left);
    }
  }

  return {
    warm() {
      if (!broken && !worker) start();
    },

    beginJob() {
      if (broken) return undefined;
      if (!worker) start();
      if (broken || Atomics.load(control, READY) !== 1) return undefined;
      // A job that ran before (and maybe failed half-way) must be answered before its room is reused.
      if (!waitForDone(Atomics.load(control, SUBMITTED))) {
        giveUp('the seal worker stopped answering');
        return undefined;
      }
      const first = Atomics.load(control, SUBMITTED);
      let requestCursor = 0;
      return {
        submit(key, tenantId, entityId, eventId, pointersJson, valuesJson) {
          if (broken) return undefined;
          const ticket = Atomics.load(control, SUBMITTED);
          // Every slot in use: wait for the oldest to be answered (its answer stays in `answers`).
          if (ticket - first >= SLOTS) return undefined;
          const most =
            REQUEST_HEADER_BYTES +
            3 * (tenantId.length + entityId.length + eventId.length + pointersJson.length + valuesJson.length);
          if (requestCursor + most > requests.length) return undefined;
          const at = requestCursor;
          requests.set(key.key, at);
          requests.writeUInt32BE(key.generation, at + KEY_BYTES);
          let offset = at + REQUEST_HEADER_BYTES;
          offset = putText(requests, at, 0, tenantId, offset);
          offset = putText(requests, at, 1, entityId, offset);
          offset = putText(requests, at, 2, eventId, offset);
          offset = putText(requests, at, 3, pointersJson, offset);
          requestCursor = putText(requests, at, 4, valuesJson, offset);
          const slot = (ticket % SLOTS) * SLOT_INTS;
          index[slot + REQUEST_OFFSET] = at;
          index[slot + STATUS] = 0;
          index[slot + FLAGS] = ticket === first ? FIRST_OF_JOB : 0;
          Atomics.store(control, SUBMITTED, ticket + 1);
          // Waking a waiting worker is a system call: do it for every few requests, and before
          // waiting for an answer (waitForDone), rather than for each one.
          if ((ticket - first) % WAKE_EVERY === WAKE_EVERY - 1) Atomics.notify(control, SUBMITTED);
          return ticket;
        },

        collect(ticket) {
          if (!waitForDone(ticket + 1)) {
            giveUp('the seal worker stopped answering');
            return undefined;
          }
          const slot = (ticket % SLOTS) * SLOT_INTS;
          if (index[slot + STATUS] !== SEALED) return undefined;
          sealedCount += 1;
          const at = index[slot + ANSWER_OFFSET]!;
          // A copy: the shared answer room is reused by the next job.
          return Buffer.from(answers.subarray(at, at + index[slot + ANSWER_LENGTH]!));
        },
      };
    },

    status() {
      const sealed = sealedCount;
      if (closed) return { state: 'closed', sealed };
      if (unavailable !== undefined) return { state: 'unavailable', sealed, reason: unavailable };
      if (!worker) return { state: 'idle', sealed };
      return { state: Atomics.load(control, READY) === 1 ? 'ready' : 'starting', sealed };
    },

    close() {
      closed = true;
      giveUp(undefined);
    },
  };
}
