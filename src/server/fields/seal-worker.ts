/**
 * The seal worker's entry: encrypts the values the main thread writes into shared memory
 * (seal-protocol.ts), with the same code as the main thread (seal-core.ts), so that a large
 * append's AES-GCM work runs beside the main thread's SQLite writes.
 */
import { randomBytes } from 'node:crypto';
import { isMainThread, workerData } from 'node:worker_threads';
import { createRecordSealing } from './seal-core.js';
import {
  ANSWER_LENGTH,
  ANSWER_OFFSET,
  DONE,
  FAILED,
  FIRST_OF_JOB,
  FLAGS,
  KEY_BYTES,
  NO_ROOM,
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

function serve(data: SealWorkerData): void {
  const control = new Int32Array(data.control);
  const index = new Int32Array(data.index);
  const requests = Buffer.from(data.requests);
  const answers = Buffer.from(data.answers);
  const sealRecord = createRecordSealing(randomBytes);
  // Pointer lists as UTF-8, by their JSON: a policy's list comes again and again.
  const pointersBytes = new Map<string, Buffer>();
  let answerCursor = 0;

  function answer(slot: number): number {
    const at = index[slot + REQUEST_OFFSET]!;
    // The request's end, from the five text lengths in its header: everything up to it is cleared.
    let end = at + REQUEST_HEADER_BYTES;
    for (let field = 0; field < 5; field += 1) end += requests.readUInt32BE(at + KEY_BYTES + 4 + field * 4);
    try {
      const generation = requests.readUInt32BE(at + KEY_BYTES);
      const texts: string[] = [];
      for (let field = 0, offset = at + REQUEST_HEADER_BYTES; field < 5; field += 1) {
        const length = requests.readUInt32BE(at + KEY_BYTES + 4 + field * 4);
        texts.push(requests.toString('utf8', offset, offset + length));
        offset += length;
      }
      const [tenantId, entityId, eventId, pointersJson, valuesJson] = texts as [string, string, string, string, string];
      let pointers = pointersBytes.get(pointersJson);
      if (!pointers) {
        if (pointersBytes.size >= 1024) pointersBytes.clear();
        pointers = Buffer.from(pointersJson, 'utf8');
        pointersBytes.set(pointersJson, pointers);
      }
      // The key is used where it lies (the cipher keeps its own copy) and cleared below.
      const key = requests.subarray(at, at + KEY_BYTES);
      const record = sealRecord(valuesJson, pointersJson, pointers, tenantId, entityId, eventId, { generation, key });
      if (answerCursor + record.length > answers.length) return NO_ROOM;
      answers.set(record, answerCursor);
      index[slot + ANSWER_OFFSET] = answerCursor;
      index[slot + ANSWER_LENGTH] = record.length;
      answerCursor += record.length;
      return SEALED;
    } catch {
      return FAILED;
    } finally {
      // Neither the key nor the values stay in shared memory once used.
      requests.fill(0, at, Math.min(end, requests.length));
    }
  }

  let done = Atomics.load(control, DONE);
  Atomics.store(control, READY, 1);
  for (;;) {
    while (Atomics.load(control, SUBMITTED) === done) {
      if (Atomics.load(control, STOP) === 1) return;
      Atomics.wait(control, SUBMITTED, done);
    }
    const submitted = Atomics.load(control, SUBMITTED);
    while (done < submitted) {
      const slot = (done % SLOTS) * SLOT_INTS;
      if ((index[slot + FLAGS]! & FIRST_OF_JOB) !== 0) answerCursor = 0;
      index[slot + STATUS] = answer(slot);
      done += 1;
      Atomics.store(control, DONE, done);
      Atomics.notify(control, DONE);
    }
  }
}

if (!isMainThread) serve(workerData as SealWorkerData);
