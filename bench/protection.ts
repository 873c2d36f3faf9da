/**
 * Issue 5's figure: what the protection chain costs. A single-event append through the whole
 * chain (Host check, IP filter, request id and headers, CSRF guard, per-tenant token bucket
 * with adaptive limits) against the same append on a server started with ALLSOURCE_PROTECTION=off.
 * Both servers are sent the same API key; both run the dev_mode tier, so nothing is refused.
 */
import { appendAbba, onOffFigures, type AbbaOptions } from './abba.js';
import type { Figure } from './report.js';
import { startServer, type ServerProcess } from './server.js';
import { log, type Resources } from './support.js';

export type ProtectionOptions = AbbaOptions;

/** Refuses to measure unless one server really protects (headers, rate limit) and the other does not. */
async function checkModes(on: ServerProcess, off: ServerProcess): Promise<void> {
  const [withChain, without] = await Promise.all(
    [on, off].map((server) => fetch(`${server.url}/api/v1/stats`, { headers: server.authHeaders })),
  );
  await Promise.all([withChain?.body?.cancel(), without?.body?.cancel()]);
  if (!withChain?.headers.get('ratelimit-limit') || !withChain.headers.get('x-request-id')) {
    throw new Error('the protected server sent no RateLimit-Limit or X-Request-ID');
  }
  if (without?.headers.get('ratelimit-limit') || without?.headers.get('x-request-id')) {
    throw new Error('the unprotected server still runs the protection chain');
  }
}

export async function measureProtection(resources: Resources, options: ProtectionOptions): Promise<Figure[]> {
  const [on, off] = await Promise.all([startServer(resources), startServer(resources, { protectionOff: true })]);
  try {
    await checkModes(on, off);
    const [protectedSide, bare] = await appendAbba(on, off, options);
    const half = options.durationS / 2;
    const [onRps, offRps] = [protectedSide.rps, bare.rps];
    log(`HTTP append through protection: ${Math.round(onRps)} req/s, protection off ${Math.round(offRps)} req/s`);
    const name = `HTTP single append through protection (${options.connections} connections)`;
    return onOffFigures({
      name,
      on: protectedSide,
      off: bare,
      offSetting: 'ALLSOURCE_PROTECTION=off',
      offLabel: 'protection off',
      minRatio: 0.75,
      note:
        `two fresh servers started together, identical but for ALLSOURCE_PROTECTION; both with X-API-Key and the ` +
        `dev_mode tier (never refused); ${protectedSide.ok} appends against ${bare.ok}; after 1 s warm-up each, ` +
        `${half} s turns in ABBA order, ${options.durationS} s per side`,
    });
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}
