import { describe, expect, it } from 'vitest';
import { WrongPassphraseError } from '../kms/index.js';
import { UnlockRateLimitedError } from './errors.js';
import { UnlockGate } from './gate.js';

describe('UnlockGate', () => {
  it('runs attempts one at a time, in arrival order', async () => {
    const gate = new UnlockGate({ baseDelayMs: 1, maxDelayMs: 2 });
    const log: string[] = [];
    let running = 0;
    const attempt = (name: string, wrong: boolean) =>
      gate.attempt(async () => {
        running += 1;
        expect(running).toBe(1);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(name);
        running -= 1;
        if (wrong) throw new WrongPassphraseError();
      });
    const results = await Promise.allSettled([attempt('a', true), attempt('b', true), attempt('c', false)]);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('refuses attempts beyond the queue limit with rate_limited', async () => {
    const gate = new UnlockGate({ maxWaiting: 2 });
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const first = gate.attempt(() => blocked);
    const second = gate.attempt(async () => undefined);
    await expect(gate.attempt(async () => undefined)).rejects.toBeInstanceOf(UnlockRateLimitedError);
    release();
    await Promise.all([first, second]);
    await expect(gate.attempt(async () => 'ok')).resolves.toBe('ok');
  });
});
