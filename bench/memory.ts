import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { MemoryReport } from './memory-child.js';
import { compared, type Figure } from './report.js';
import { log, REPO_ROOT, withTimeout, type Resources } from './support.js';

export interface MemoryOptions {
  events: number;
  /** Ingest stops here even short of `events`; the figure then says how far it got. */
  budgetMs: number;
  maxRssMb: number;
  seed: number;
}

/** Runs memory-child.ts in a fresh process: the bench's own heap (generated events, results) must not count. */
async function runChild(resources: Resources, options: MemoryOptions): Promise<MemoryReport> {
  const args = [resources.tempDir('memory'), ...[options.events, options.budgetMs, options.seed].map(String)];
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/memory-child.ts', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  resources.track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  try {
    const [code] = (await withTimeout(options.budgetMs + 30_000, 'the memory child', once(child, 'exit'))) as [
      number | null,
    ];
    if (code !== 0) throw new Error(`the memory child exited with ${code}: ${stderr.trim().slice(-2000)}`);
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryReport;
  } finally {
    await resources.stop(child);
  }
}

/** How long the ingest took, how its rate evolved, and how long the rest would have taken. */
function describeIngest(report: MemoryReport): string {
  const rate = Math.round(report.ingested / report.seconds).toLocaleString('en-US');
  let note =
    `ingest took ${report.seconds.toFixed(1)} s (${rate} events/s, durability full); ` +
    `V8 heap in use at the end ${report.heapUsedMb.toFixed(0)} MB`;
  if (report.ingested < report.requested) {
    const lastRate = report.windowRates.at(-1) ?? report.ingested / report.seconds;
    const total = report.seconds + (report.requested - report.ingested) / lastRate;
    note +=
      `; stopped at its time budget: ${report.requested.toLocaleString('en-US')} ` +
      `would take about ${total.toFixed(0)} s at the last rate`;
  }
  const windows = report.windowRates.map((rate) => Math.round(rate / 1000)).join(', ');
  return `${note}; rate per 100k events, in thousands/s: ${windows}`;
}

/** Figure 6: resident memory of a process that ingested a million events through the store. */
export async function measureMemory(resources: Resources, options: MemoryOptions): Promise<Figure[]> {
  const report = await runChild(resources, options);
  log(`memory: ${report.ingested} events in ${report.seconds.toFixed(1)} s, RSS ${report.rssAfterMb.toFixed(0)} MB`);
  const baseline = { name: 'same process before ingest', value: report.baselineRssMb, unit: 'MB' };
  const name = `RSS after ingesting ${report.ingested.toLocaleString('en-US')} events in-process`;
  const after = compared(name, report.rssAfterMb, 'MB', baseline, 'lower-is-better');
  after.target = { text: `< ${options.maxRssMb} MB`, met: report.rssAfterMb < options.maxRssMb };
  after.note = describeIngest(report);
  const peak = compared('peak RSS during that ingest', report.peakRssMb, 'MB', baseline, 'lower-is-better');
  return [after, peak];
}
