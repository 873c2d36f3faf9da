import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createKey, createTenant, createUser, xApiKey } from '../support/identity.js';
import { api, newApiKey, startServer, type TestServer } from '../support/server.js';

/**
 * The one timed comparison issue 3 asks for: an attacker must not learn, from how long the
 * answer takes, whether an API key id or a username exists.
 *
 * Each failure path should cost exactly one argon2id verification (19 MiB, 2 passes: about
 * 20–80 ms here), against the real hash or against a dummy hash of the same parameters, so the
 * two kinds of attempt take the same time. Wrong secrets are never put in the verified-key
 * cache, so every attempt pays argon2.
 *
 * Tolerance: the ratio of the (10%-trimmed) mean times must lie within [0.5, 2.0]. A skipped
 * verification would cost well under a millisecond against tens of milliseconds, a ratio near
 * 0.05 or below, so this bound still catches the leak by an order of magnitude, while leaving
 * room for noise on a loaded two-core machine (other test files run in parallel). Samples are
 * interleaved (A, B, A, B, ...) after a warm-up, so drift in the machine's load hits both series
 * alike, and the slowest and fastest 10% of each series are dropped so that one GC pause or one
 * scheduling hiccup cannot swing the mean.
 */

const TRIES = 30;
const WARM_UP = 4;
const MIN_RATIO = 0.5;
const MAX_RATIO = 2.0;

function trimmedMean(samples: number[], trim = 0.1): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * trim);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((sum, x) => sum + x, 0) / kept.length;
}

async function timed(request: () => Promise<{ status: number }>, expectedStatus: number): Promise<number> {
  const start = performance.now();
  const res = await request();
  const elapsed = performance.now() - start;
  expect(res.status).toBe(expectedStatus);
  return elapsed;
}

/** Interleaves the two requests after a warm-up; returns both series' trimmed means and their ratio. */
async function compare(a: () => Promise<number>, b: () => Promise<number>) {
  for (let i = 0; i < WARM_UP; i++) {
    await a();
    await b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < TRIES; i++) {
    // Alternate which goes first, so neither series always follows the other.
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  const meanA = trimmedMean(as);
  const meanB = trimmedMean(bs);
  return { meanA, meanB, ratio: meanA / meanB };
}

let server: TestServer;
let knownKey: string;
let username: string;

beforeAll(async () => {
  server = await startServer();
  await createTenant(server.url, 'timing');
  const user = await createUser(server.url, { username: 'tess', tenant_id: 'timing', role: 'admin' });
  username = user.username;
  knownKey = (await createKey(server.url, bearer(user.token), { name: 'timed', role: 'readonly' })).key;
});

afterAll(async () => {
  await server?.dispose();
});

describe('failed authentication takes the same time whatever was wrong', () => {
  it('X-API-Key: an unknown key id costs the same as a known key id with a wrong secret', async () => {
    // The known key's id with its last secret byte flipped: found by id, refused by argon2.
    const bytes = Buffer.from(knownKey.slice(4), 'base64url');
    bytes[bytes.length - 1]! ^= 0x01;
    const wrongSecret = `ask_${bytes.toString('base64url')}`;
    const attempt = (key: string) => () =>
      timed(() => api(server.url, '/api/v1/stats', { headers: xApiKey(key) }), 401);
    // A fresh unknown key id on every try, so nothing could ever be remembered about it.
    const { meanA, meanB, ratio } = await compare(() => attempt(newApiKey())(), attempt(wrongSecret));
    expect(ratio, `unknown key id ${meanA.toFixed(1)} ms, wrong secret ${meanB.toFixed(1)} ms`).toBeGreaterThanOrEqual(
      MIN_RATIO,
    );
    expect(ratio, `unknown key id ${meanA.toFixed(1)} ms, wrong secret ${meanB.toFixed(1)} ms`).toBeLessThanOrEqual(
      MAX_RATIO,
    );
    // The real key still works: the wrong attempts locked nothing and changed nothing.
    expect((await api(server.url, '/api/v1/stats', { headers: xApiKey(knownKey) })).status).toBe(200);
  });

  it('login: an unknown user costs the same as a wrong password', async () => {
    const attempt = (name: string) => () =>
      timed(
        () =>
          api(server.url, '/api/v1/auth/login', {
            json: { username: name, password: 'definitely not the passphrase' },
            anonymous: true,
          }),
        401,
      );
    const { meanA, meanB, ratio } = await compare(attempt('nobody-by-this-name'), attempt(username));
    const detail = `unknown user ${meanA.toFixed(1)} ms, wrong password ${meanB.toFixed(1)} ms`;
    expect(ratio, detail).toBeGreaterThanOrEqual(MIN_RATIO);
    expect(ratio, detail).toBeLessThanOrEqual(MAX_RATIO);
  });
});
