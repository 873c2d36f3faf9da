// A seal worker that starts and then never answers: the sealer must give it up and seal on the
// main thread (seal-worker.int.test.ts).
import { workerData } from 'node:worker_threads';

const READY = 3;
Atomics.store(new Int32Array(workerData.control), READY, 1);
setInterval(() => undefined, 60_000);
