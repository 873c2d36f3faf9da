/**
 * npm run bench: every speed claim of DESIGN.md ("Storage and speed"), each figure beside its
 * limit measured in the same run. Targets are reported, never asserted: a missed target prints
 * MISSED and the run still exits 0. Only a step that cannot measure at all makes the exit code 1.
 */
import { fileURLToPath } from 'node:url';
import { measureApiKeyAppend, measureLogin, startServerPair, type ServerPair } from './auth.js';
import { measureFieldEncryption } from './field-encryption.js';
import { measureGroupCommit } from './group-commit.js';
import { measureBatchIngest, measureSingleAppend } from './http.js';
import { measureInProcess } from './in-process.js';
import { measureMemory } from './memory.js';
import { measureProtection } from './protection.js';
import { measureAudit } from './audit.js';
import { measureReads } from './reads.js';
import { machineInfo, renderTable, writeResults, type Figure, type Results } from './report.js';
import { startServer, type ServerProcess } from './server.js';
import { measureSse } from './sse.js';
import { createResources, log, nowMs, type Resources } from './support.js';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
const SEED = 20_240_601;

/** Sized so that the whole run stays under three minutes on two cores. */
const SETTINGS = {
  inProcess: { events: 200_000, chunkBatches: 20, seed: SEED },
  memory: { events: 1_000_000, budgetMs: 60_000, maxRssMb: 300, seed: SEED },
  groupCommit: { appends: 3000, inFlight: 32 },
  batchIngest: { requests: 150, connections: 4, seed: SEED + 10 },
  singleAppend: { connections: 32, durationS: 4 },
  reads: { seed: SEED + 20, durationS: 3, eventType: 'order.paid' },
  sse: { subscribers: 50, batches: 10, seed: SEED + 30, timeoutMs: 30_000 },
  // The same load as singleAppend: 4 s per side.
  apiKeyAppend: { connections: 32, durationS: 4 },
  login: { requests: 50 },
  // Issue 5: 3 s per side plus start-up and warm-up, about 10 s in all.
  protection: { connections: 32, durationS: 3 },
  // Issue 6: 8 s per side in 2-s turns (ABBA twice), about 20 s in all.
  audit: { connections: 32, durationS: 8, rounds: 2 },
  fieldEncryption: { events: 100_000, chunkBatches: 10, seed: SEED + 40 },
};

interface Run {
  figures: Figure[];
  failures: Array<{ step: string; error: string }>;
}

/** Runs one step; a failure is recorded and the remaining steps still run. */
async function step(run: Run, name: string, measure: () => Promise<Figure[]>): Promise<void> {
  log(`${name}…`);
  try {
    run.figures.push(...(await measure()));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.failures.push({ step: name, error: message });
    log(`${name} FAILED: ${message}`);
  }
}

async function httpSteps(run: Run, server: ServerProcess, inProcessEventsPerSecond: number | undefined) {
  await step(run, 'HTTP batch ingest', async () => {
    if (inProcessEventsPerSecond === undefined) throw new Error('no in-process figure to compare with');
    return [await measureBatchIngest(server, SETTINGS.batchIngest, inProcessEventsPerSecond)];
  });
  await step(run, 'HTTP single append', () => measureSingleAppend(server, SETTINGS.singleAppend));
  await step(run, 'HTTP reads', () => measureReads(server, SETTINGS.reads));
  // Last: the subscribers would otherwise share the server with the figures above.
  await step(run, 'SSE fan-out', async () => [await measureSse(server, SETTINGS.sse)]);
}

/** Issue 3: on two fresh servers of their own, so that neither side holds the data of the steps above. */
async function authSteps(run: Run, resources: Resources): Promise<void> {
  let pair: ServerPair | undefined;
  await step(run, 'API key and dev-mode servers start', async () => {
    pair = await startServerPair(resources);
    return [];
  });
  const started: ServerPair | undefined = pair;
  if (!started) return;
  try {
    await step(run, 'HTTP append, API key vs dev mode', () => measureApiKeyAppend(started, SETTINGS.apiKeyAppend));
    await step(run, 'login', () => measureLogin(started.auth, SETTINGS.login));
  } finally {
    await started.stop();
  }
}

async function measureAll(resources: Resources): Promise<Run> {
  const run: Run = { figures: [], failures: [] };
  let inProcessEventsPerSecond: number | undefined;
  await step(run, 'in-process append', async () => {
    const result = await measureInProcess(resources, SETTINGS.inProcess);
    inProcessEventsPerSecond = result.store.eventsPerSecond;
    return [result.figure];
  });
  await step(run, 'group commit', async () => [await measureGroupCommit(resources, SETTINGS.groupCommit)]);
  await step(run, 'field encryption', async () => [await measureFieldEncryption(resources, SETTINGS.fieldEncryption)]);
  await step(run, 'memory', () => measureMemory(resources, SETTINGS.memory));
  let server: ServerProcess | undefined;
  await step(run, 'server start', async () => {
    server = await startServer(resources);
    return [];
  });
  if (server) {
    try {
      await httpSteps(run, server, inProcessEventsPerSecond);
    } finally {
      await server.stop();
    }
  }
  await authSteps(run, resources);
  await step(run, 'HTTP append, protection on vs off', () => measureProtection(resources, SETTINGS.protection));
  await step(run, 'HTTP append, auditing on vs off', () => measureAudit(resources, SETTINGS.audit));
  return run;
}

function print(results: Results): void {
  const { machine } = results;
  const missed = results.figures.filter((figure) => figure.target && !figure.target.met).length;
  process.stdout.write(
    [
      '',
      `AllSource Desktop bench: ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemoryMb} MB, Node ${machine.node}, ${machine.date}`,
      "ratio of limit: share of the limit's speed reached (1.00 = as fast as the limit); limits are measured in this run",
      '',
      renderTable(results.figures),
      '',
      `${results.figures.length} figures, ${missed} targets MISSED, ${results.failures.length} steps failed; ` +
        `${results.durationSeconds.toFixed(0)} s; written to ${RESULTS_FILE}`,
      ...results.failures.map((failure) => `FAILED ${failure.step}: ${failure.error}`),
      '',
    ].join('\n'),
  );
}

async function main(): Promise<number> {
  const started = nowMs();
  const resources = createResources();
  const interrupt = (): void => {
    log('interrupted: stopping servers and removing temp dirs');
    void resources.dispose().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let run: Run;
  try {
    run = await measureAll(resources);
  } finally {
    await resources.dispose();
  }
  const results: Results = {
    machine: machineInfo(),
    durationSeconds: (nowMs() - started) / 1000,
    figures: run.figures,
    failures: run.failures,
  };
  writeResults(RESULTS_FILE, results);
  print(results);
  return results.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
