import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isoTimestamp, uuidText } from './dto.js';

describe('isoTimestamp', () => {
  it("writes exactly what Date's toISOString writes", () => {
    const samples = [
      0,
      1,
      999,
      1000,
      59_999,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      Date.UTC(2024, 1, 29, 12, 0, 0, 7),
      253_402_300_799_999, // 9999-12-31T23:59:59.999Z, the last four-digit year
      253_402_300_800_000, // +010000-01-01: an expanded year
      -1,
      -86_400_001,
      1.5,
    ];
    // Runs of consecutive milliseconds cross second boundaries, where the kept prefix must change.
    const start = Date.UTC(2026, 11, 5, 1, 2, 3, 990);
    for (let ms = start; ms < start + 2100; ms += 7) samples.push(ms);
    for (let i = 0; i < 2000; i++) samples.push(randomInt(0, 2 ** 47));
    for (const ms of samples) expect(isoTimestamp(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws for an invalid time, as toISOString does', () => {
    expect(() => isoTimestamp(Number.NaN)).toThrow(RangeError);
  });
});

describe('uuidText', () => {
  it('writes the 8-4-4-4-12 lowercase hex of the 16 bytes, wherever they sit in their buffer', () => {
    for (let i = 0; i < 500; i++) {
      const buffer = randomBytes(40);
      const offset = randomInt(0, 24);
      const bytes = buffer.subarray(offset, offset + 16);
      const hex = bytes.toString('hex');
      const expected = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      expect(uuidText(bytes)).toBe(expected);
    }
    expect(uuidText(new Uint8Array(16).fill(0xff))).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('returns independent strings (the scratch buffer is reused)', () => {
    const first = uuidText(new Uint8Array(16));
    const second = uuidText(new Uint8Array(16).fill(1));
    expect(first).toBe('00000000-0000-0000-0000-000000000000');
    expect(second).toBe('01010101-0101-0101-0101-010101010101');
  });
});
