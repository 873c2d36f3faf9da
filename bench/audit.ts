/**
 * Issue 6's figure: what auditing costs a single-event append. The same append (one insert of
 * the event and one audit row with its SHA-256, in one group-committed transaction) against a
 * server started with ALLSOURCE_AUDIT=off, a switch that exists for this comparison only.
 */
import { appendAbba, onOffFigures, type AbbaOptions } from './abba.js';
import type { Figure } from './report.js';
import { startServer, type ServerProcess } from './server.js';
import { log, type Resources } from './support.js';

export type AuditOptions = AbbaOptions;

async function auditTotal(server: ServerProcess): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/audit/events?action=ingest_event&limit=1`, {
    headers: server.authHeaders,
  });
  return ((await res.json()) as { total: number }).total;
}

/** Refuses to measure unless one server really records each append and the other records nothing. */
async function checkModes(on: ServerProcess, off: ServerProcess, appended: number): Promise<void> {
  const [recorded, unrecorded] = await Promise.all([auditTotal(on), auditTotal(off)]);
  if (recorded < appended) throw new Error(`the audited server recorded ${recorded} appends of ${appended}`);
  if (unrecorded !== 0) throw new Error('the server with ALLSOURCE_AUDIT=off still records');
}

export async function measureAudit(resources: Resources, options: AuditOptions): Promise<Figure[]> {
  const [on, off] = await Promise.all([startServer(resources), startServer(resources, { auditOff: true })]);
  try {
    const [audited, bare] = await appendAbba(on, off, options);
    await checkModes(on, off, audited.ok);
    const [onRps, offRps] = [audited.rps, bare.rps];
    log(`HTTP append with auditing: ${Math.round(onRps)} req/s, auditing off ${Math.round(offRps)} req/s`);
    const name = `HTTP single append with auditing (${options.connections} connections)`;
    return onOffFigures({
      name,
      on: audited,
      off: bare,
      offSetting: 'ALLSOURCE_AUDIT=off',
      offLabel: 'auditing off',
      minRatio: 0.9,
      note:
        `two fresh servers started together, identical but for ALLSOURCE_AUDIT; one audit row (hash-chained, ` +
        `SHA-256) per append in the append's transaction; ${audited.ok} appends against ${bare.ok}; after 1 s ` +
        `warm-up each, ${options.durationS / (2 * (options.rounds ?? 1))} s turns in ABBA order ×${options.rounds ?? 1}, ` +
        `${options.durationS} s per side`,
    });
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}
