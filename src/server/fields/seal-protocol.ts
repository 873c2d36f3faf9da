/**
 * The shared memory between the sealer (main thread, seal-pool.ts) and the seal worker
 * (seal-worker.ts). Requests and answers go through SharedArrayBuffers and Atomics, not
 * postMessage: the append job that waits for them is synchronous (it runs inside an SQLite
 * transaction), and a message would need the event loop.
 *
 * control (Int32Array):
 *   SUBMITTED  requests written so far (the main thread increments it, then notifies)
 *   DONE       requests answered so far (the worker increments it, then notifies)
 *   STOP       1 asks the worker to end
 *   READY      1 once the worker runs its loop; until then the sealer seals on the main thread
 *
 * index (Int32Array, SLOT_INTS per slot; request n uses slot n % SLOTS):
 *   request offset, answer offset, answer length, status, flags
 *
 * A request (at its offset in `requests`): key (32 bytes) | generation u32 | the byte lengths
 * (u32 each) of tenant, entity, event id, pointers JSON, values JSON | those five texts in UTF-8.
 * An answer (at its offset in `answers`): the sealed record (sealed-record.ts).
 */

export const SUBMITTED = 0;
export const DONE = 1;
export const STOP = 2;
export const READY = 3;
export const CONTROL_INTS = 4;

export const SLOTS = 4096;
export const SLOT_INTS = 5;
export const REQUEST_OFFSET = 0;
export const ANSWER_OFFSET = 1;
export const ANSWER_LENGTH = 2;
export const STATUS = 3;
export const FLAGS = 4;

/** FLAGS: the first request of a job; the worker starts writing answers at offset 0 again. */
export const FIRST_OF_JOB = 1;

/** STATUS values. */
export const SEALED = 1;
/** Anything else: the main thread seals the event itself. */
export const FAILED = 3;
/** The answer did not fit in `answers`: the main thread seals the event itself. */
export const NO_ROOM = 4;

export const KEY_BYTES = 32;
export const REQUEST_HEADER_BYTES = KEY_BYTES + 4 + 5 * 4;

export interface SealWorkerData {
  control: SharedArrayBuffer;
  index: SharedArrayBuffer;
  requests: SharedArrayBuffer;
  answers: SharedArrayBuffer;
}

/** Shared memory for one pool and its worker: `arenaBytes` of requests, twice that of answers. */
export function allocateSealMemory(arenaBytes: number): SealWorkerData {
  return {
    control: new SharedArrayBuffer(CONTROL_INTS * 4),
    index: new SharedArrayBuffer(SLOTS * SLOT_INTS * 4),
    requests: new SharedArrayBuffer(arenaBytes),
    answers: new SharedArrayBuffer(arenaBytes * 2),
  };
}
