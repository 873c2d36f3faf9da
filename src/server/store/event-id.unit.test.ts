import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { uuidText } from './dto.js';
import { createEventIdGenerator } from './event-id.js';

describe('event ids', () => {
  it('are valid UUIDv7 carrying the millisecond they were made in', () => {
    const ms = Date.parse('2026-12-04T10:00:00.123Z');
    const id = uuidText(createEventIdGenerator(() => ms)());
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  });

  it('increase strictly, within one millisecond and when the clock steps back', () => {
    let ms = 1_700_000_000_000;
    const next = createEventIdGenerator(() => ms);
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      if (i === 5000) ms -= 10_000; // the wall clock is set back
      if (i % 997 === 0) ms += 1;
      ids.push(uuidText(next()));
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('differ between generators in the same millisecond', () => {
    const a = createEventIdGenerator(() => 1)();
    const b = createEventIdGenerator(() => 1)();
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });
});
