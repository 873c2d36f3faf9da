import { randomFillSync } from 'node:crypto';

/**
 * Makes UUIDv7 event ids (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter
 * (method 1, "fixed bit-length dedicated counter"), then 62 random bits. Ids made by one
 * generator are strictly increasing, so the id index only ever appends at its right edge.
 *
 * Randomness is drawn from a pool refilled 4 KiB at a time: one CSPRNG call per id was a
 * tenth of the cost of an append.
 */
export function createEventIdGenerator(now: () => number = Date.now): () => Uint8Array {
  const pool = Buffer.alloc(4096);
  let poolOffset = pool.length;
  let lastMs = -1;
  let counter = 0;

  function random(count: number): Buffer {
    if (poolOffset + count > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const slice = pool.subarray(poolOffset, poolOffset + count);
    poolOffset += count;
    return slice;
  }

  return function newEventId(): Uint8Array {
    let ms = now();
    if (ms > lastMs) {
      // A fresh millisecond: seed the counter randomly in its lower half, leaving room to count up.
      counter = random(2).readUInt16BE(0) & 0x7ff;
    } else {
      // Same millisecond, or the clock stepped back: stay on the last millisecond and count.
      ms = lastMs;
      counter += 1;
      if (counter > 0xfff) {
        ms += 1;
        counter = 0;
      }
    }
    lastMs = ms;
    // allocUnsafe slices small buffers from a shared slab: far cheaper than a typed array of its own.
    const id = Buffer.allocUnsafe(16);
    // 48-bit big-endian milliseconds.
    const high = Math.floor(ms / 0x1000000);
    const low = ms % 0x1000000;
    id[0] = (high >>> 16) & 0xff;
    id[1] = (high >>> 8) & 0xff;
    id[2] = high & 0xff;
    id[3] = (low >>> 16) & 0xff;
    id[4] = (low >>> 8) & 0xff;
    id[5] = low & 0xff;
    id[6] = 0x70 | (counter >>> 8); // version 7
    id[7] = counter & 0xff;
    random(8).copy(id, 8);
    id[8] = 0x80 | (id[8]! & 0x3f); // variant 10
    return id;
  };
}
