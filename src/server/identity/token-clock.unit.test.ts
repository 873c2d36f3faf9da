import { describe, expect, it } from 'vitest';
import { createTokenClock } from './token-clock.js';

describe('token clock', () => {
  it('puts a password change after every token issued before it, even within one millisecond', () => {
    const clock = createTokenClock(() => 1000);
    const before = clock.issueAt(500);
    const changedAt = clock.changeAt(500);
    expect(before).toBeLessThan(changedAt);
    // A login right after the change is valid: issued at or after the change.
    expect(clock.issueAt(changedAt)).toBeGreaterThanOrEqual(changedAt);
    // A second change in the same millisecond still moves forward.
    expect(clock.changeAt(changedAt)).toBeGreaterThan(changedAt);
  });

  it('uses the wall clock when it is ahead', () => {
    let now = 1000;
    const clock = createTokenClock(() => now);
    clock.issueAt(0);
    now = 5000;
    expect(clock.changeAt(0)).toBe(5000);
    expect(clock.issueAt(5000)).toBe(5000);
  });
});
