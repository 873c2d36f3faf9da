/**
 * Issue 3's figures: what authentication costs. A single-event append with an API key against
 * the same append on a dev-mode server that is sent no credential; and login against the
 * argon2id verification at its heart, measured in this process with the same parameters.
 */
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { ARGON2_OPTIONS } from '../src/server/identity/index.js';
import { postJson, singleEventBody } from './http.js';
import { appendAbba, type AbbaOptions } from './abba.js';
import { compared, type Figure } from './report.js';
import { startServer, type ServerProcess } from './server.js';
import { log, nowMs, summarise, type LatencySummary, type Resources } from './support.js';

/** Two fresh servers, identical but for dev mode: `auth` is sent an API key, `dev` nothing. */
export interface ServerPair {
  auth: ServerProcess;
  dev: ServerProcess;
  stop(): Promise<void>;
}

/** Starts both at once; if either fails, the other is stopped and the first error thrown. */
export async function startServerPair(resources: Resources): Promise<ServerPair> {
  // Both without request protection: dev mode skips rate limiting, so with it on this figure would
  // charge the limiter to authentication. Protection has its own figure (bench/protection.ts).
  const [auth, dev] = await Promise.allSettled([
    startServer(resources, { protectionOff: true }),
    startServer(resources, { devMode: true, protectionOff: true }),
  ]);
  if (auth.status === 'fulfilled' && dev.status === 'fulfilled') {
    return {
      auth: auth.value,
      dev: dev.value,
      stop: async () => {
        await Promise.all([auth.value.stop(), dev.value.stop()]);
      },
    };
  }
  await Promise.all([auth, dev].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)));
  throw auth.status === 'rejected' ? auth.reason : (dev as PromiseRejectedResult).reason;
}

async function healthOf(server: ServerProcess): Promise<{ dev_mode?: unknown }> {
  const response = await fetch(`${server.url}/health`);
  return (await response.json()) as { dev_mode?: unknown };
}

/** Refuses to measure unless `auth` really demands a credential and `dev` really is in dev mode. */
async function checkModes(pair: ServerPair): Promise<void> {
  const [authHealth, devHealth] = await Promise.all([healthOf(pair.auth), healthOf(pair.dev)]);
  if (authHealth.dev_mode !== false || devHealth.dev_mode !== true) {
    throw new Error(`dev_mode is ${String(authHealth.dev_mode)} / ${String(devHealth.dev_mode)}, not false / true`);
  }
  const anonymous = await fetch(`${pair.auth.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: singleEventBody().replaceAll('[<id>]', 'anonymous'),
  });
  await anonymous.body?.cancel();
  if (anonymous.status !== 401) throw new Error(`an append without a credential answered ${anonymous.status}, not 401`);
}

export type ApiKeyAppendOptions = AbbaOptions;

/**
 * Figure (issue 3): POST /api/v1/events with X-API-Key against the same append, same load, on a
 * dev-mode server with no credential. The two sides take turns (ABBA) so that other programs on
 * the machine weigh on both alike.
 */
export async function measureApiKeyAppend(pair: ServerPair, options: ApiKeyAppendOptions): Promise<Figure[]> {
  await checkModes(pair);
  const [withKey, devMode] = await appendAbba(pair.auth, pair.dev, options);
  const half = options.durationS / 2;
  const [keyRps, devRps] = [withKey.rps, devMode.rps];
  const keyLatency = summarise(withKey.latenciesMs);
  const devLatency = summarise(devMode.latenciesMs);
  log(`HTTP append with API key: ${Math.round(keyRps)} req/s, dev mode ${Math.round(devRps)} req/s`);
  const name = `HTTP single append with API key (${options.connections} connections)`;
  const rps = compared(
    name,
    keyRps,
    'requests/s',
    { name: 'same append, dev mode, no credential', value: devRps, unit: 'requests/s' },
    'higher-is-better',
    0.8,
  );
  rps.note =
    `two fresh servers started together, identical but for ALLSOURCE_DEV_MODE; ${withKey.ok} appends with ` +
    `X-API-Key (the bootstrap key, admin) against ${devMode.ok} without; after 1 s warm-up each, ` +
    `${half} s turns in ABBA order, ${options.durationS} s per side`;
  return [
    rps,
    compared(
      `${name} p50`,
      keyLatency.p50,
      'ms',
      { name: 'dev mode p50', value: devLatency.p50, unit: 'ms' },
      'lower-is-better',
    ),
    compared(
      `${name} p99`,
      keyLatency.p99,
      'ms',
      { name: 'dev mode p99', value: devLatency.p99, unit: 'ms' },
      'lower-is-better',
    ),
  ];
}

export interface LoginOptions {
  requests: number;
}

/** A developer of the platform tenant, registered with the server's bootstrap key. */
async function registerUser(server: ServerProcess): Promise<{ username: string; password: string }> {
  const username = 'bench-login';
  // 32 random base64url characters: far from the username and from any common password.
  const password = randomBytes(24).toString('base64url');
  const body = JSON.stringify({ username, email: 'bench-login@example.com', password, role: 'developer' });
  await postJson(server, '/api/v1/auth/register', body);
  return { username, password };
}

/** One login, timed to the last byte of the reply; returns the token. Login is public: no credential. */
async function timedLogin(server: ServerProcess, body: string, latencies: number[]): Promise<string> {
  const start = nowMs();
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  latencies.push(nowMs() - start);
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${text.slice(0, 300)}`);
  const token = (JSON.parse(text) as { token?: unknown }).token;
  if (typeof token !== 'string') throw new Error(`login answered without a token: ${text.slice(0, 300)}`);
  return token;
}

async function timedVerify(hash: string, password: string, latencies: number[]): Promise<void> {
  const start = nowMs();
  const matches = await argon2.verify(hash, password);
  latencies.push(nowMs() - start);
  if (!matches) throw new Error('argon2.verify refused the right password');
}

/** The token must be a working one, or the figure would time a login that does not log in. */
async function checkToken(server: ServerProcess, token: string, username: string): Promise<void> {
  const response = await fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200 || !text.includes(`"${username}"`)) {
    throw new Error(`GET /api/v1/auth/me with the login's token answered ${response.status}: ${text.slice(0, 300)}`);
  }
}

/**
 * Figure (issue 3): login latency over sequential POST /api/v1/auth/login, against argon2id
 * verification in this process at the server's parameters (ARGON2_OPTIONS), the two taking
 * turns request by request. The ratio shows what HTTP, the lookups and the JWT add.
 */
export async function measureLogin(server: ServerProcess, options: LoginOptions): Promise<Figure[]> {
  const { username, password } = await registerUser(server);
  const hash = await argon2.hash(password, ARGON2_OPTIONS);
  const body = JSON.stringify({ username, password });
  const login: number[] = [];
  const verify: number[] = [];
  // Unrecorded warm-up of both sides.
  for (let i = 0; i < 2; i++) {
    await timedLogin(server, body, []);
    await timedVerify(hash, password, []);
  }
  let token = '';
  for (let i = 0; i < options.requests; i++) {
    if (i % 2 === 0) {
      token = await timedLogin(server, body, login);
      await timedVerify(hash, password, verify);
    } else {
      await timedVerify(hash, password, verify);
      token = await timedLogin(server, body, login);
    }
  }
  await checkToken(server, token, username);
  const http: LatencySummary = summarise(login);
  const limit: LatencySummary = summarise(verify);
  log(`login: p50 ${http.p50.toFixed(1)} ms (argon2id verify ${limit.p50.toFixed(1)} ms)`);
  const p50 = compared(
    'login p50',
    http.p50,
    'ms',
    { name: 'argon2id verify p50, in-process', value: limit.p50, unit: 'ms' },
    'lower-is-better',
  );
  const { memoryCost, timeCost, parallelism } = ARGON2_OPTIONS;
  p50.note =
    `${options.requests} sequential POST /api/v1/auth/login of one developer (no credential sent: login is public), ` +
    `each answered with a working token; limit: argon2.verify in the bench process on a hash made with the ` +
    `server's parameters (argon2id m=${memoryCost} KiB, t=${timeCost}, p=${parallelism}), alternating with the logins`;
  return [
    p50,
    compared(
      'login p99',
      http.p99,
      'ms',
      { name: 'argon2id verify p99, in-process', value: limit.p99, unit: 'ms' },
      'lower-is-better',
    ),
  ];
}
