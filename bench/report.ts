import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** What a figure is compared against, measured in the same run (DESIGN.md, "Storage and speed"). */
export interface Limit {
  name: string;
  value: number;
  unit: string;
}

/** A target is reported, never asserted: a missed one is printed as MISSED and the run still exits 0. */
export interface Target {
  text: string;
  met: boolean;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  limit?: Limit;
  /** Share of the limit's speed reached: 1.00 is as fast as the limit, whichever way the unit points. */
  ratio?: number;
  target?: Target;
  note?: string;
}

export type Direction = 'higher-is-better' | 'lower-is-better';

/** A figure against its limit; `minRatio` makes the target "at least this share of the limit". */
export function compared(
  name: string,
  value: number,
  unit: string,
  limit: Limit,
  direction: Direction,
  minRatio?: number,
): Figure {
  const ratio = direction === 'higher-is-better' ? value / limit.value : limit.value / value;
  const figure: Figure = { name, value, unit, limit, ratio };
  if (minRatio !== undefined) {
    figure.target = { text: `≥ ${Math.round(minRatio * 100)}% of limit`, met: ratio >= minRatio };
  }
  return figure;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function limitCell(figure: Figure): string {
  if (!figure.limit || figure.ratio === undefined) return '';
  const { name, value, unit } = figure.limit;
  return `${figure.ratio.toFixed(2)} of ${formatNumber(value)} ${unit} (${name})`;
}

function statusCell(figure: Figure): string {
  if (!figure.target) return '';
  return figure.target.met ? 'OK' : 'MISSED';
}

const HEADERS = ['figure', 'value', 'unit', 'ratio of limit', 'target', 'status'];

function rows(figures: readonly Figure[]): string[][] {
  return figures.map((figure) => [
    figure.name,
    formatNumber(figure.value),
    figure.unit,
    limitCell(figure),
    figure.target?.text ?? '',
    statusCell(figure),
  ]);
}

/** A plain-text table; numbers are right-aligned so that magnitudes line up. */
export function renderTable(figures: readonly Figure[]): string {
  const body = rows(figures);
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...body.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === 1 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join(' | ');
  const rule = widths.map((width) => '-'.repeat(width)).join('-|-');
  const notes = figures.filter((figure) => figure.note).map((figure) => `  * ${figure.name}: ${figure.note}`);
  return [line(HEADERS), rule, ...body.map(line), ...(notes.length > 0 ? ['', 'Notes:', ...notes] : [])].join('\n');
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemoryMb: number;
  node: string;
  platform: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    totalMemoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

export interface Results {
  machine: MachineInfo;
  durationSeconds: number;
  figures: Figure[];
  /** Steps that failed outright; their figures are absent. */
  failures: Array<{ step: string; error: string }>;
}

export function writeResults(file: string, results: Results): void {
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
