import { describe, expect, it } from 'vitest';
import { ARGON2_DUMMY_HASH, ARGON2_OPTIONS, createArgon2Hasher } from './hasher.js';

/** The parameters as the PHC string shows them, e.g. { m: 19456, t: 2, p: 1 }. */
function parameters(hash: string): Record<string, number> {
  const [, algorithm, , params] = hash.split('$');
  expect(algorithm).toBe('argon2id');
  return Object.fromEntries(params!.split(',').map((pair) => [pair.split('=')[0], Number(pair.split('=')[1])]));
}

describe('argon2 hasher', () => {
  const hasher = createArgon2Hasher();

  it('hashes with argon2id at OWASP parameters (19 MiB, 2 passes, 1 lane) or stronger', async () => {
    const hash = await hasher.hash('kV7#qp2m-long-enough');
    expect(hash.startsWith('$argon2id$v=19$')).toBe(true);
    const { m, t, p } = parameters(hash);
    expect(m).toBeGreaterThanOrEqual(19_456);
    expect(t).toBeGreaterThanOrEqual(2);
    expect(p).toBe(1);
    expect({ m, t, p }).toEqual({ m: ARGON2_OPTIONS.memoryCost, t: ARGON2_OPTIONS.timeCost, p: 1 });
    expect(hash).not.toContain('kV7#qp2m');
  });

  it('verifies the right secret only, and says false (not throw) for a malformed hash', async () => {
    const hash = await hasher.hash(Buffer.from('secret bytes'));
    expect(await hasher.verify(hash, Buffer.from('secret bytes'))).toBe(true);
    expect(await hasher.verify(hash, Buffer.from('secret bytez'))).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
  });

  it('has a dummy hash at the same parameters, so that checking it costs the same', async () => {
    expect(parameters(ARGON2_DUMMY_HASH)).toEqual(parameters(await hasher.hash('anything')));
    expect(hasher.dummyHash).toBe(ARGON2_DUMMY_HASH);
    expect(await hasher.verify(hasher.dummyHash, '')).toBe(false);
  });
});
