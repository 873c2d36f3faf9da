import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** The seed's SystemLoad, measured: each figure is a share from 0 (idle) to 1 (saturated) or more. */
export interface SystemLoad {
  /**
   * This process's CPU time over wall time: 1 is one core busy all the time, which for the
   * single-threaded request loop is saturation (argon2's worker threads can take it above 1).
   * The machine's load average is left out: other programs' builds are not this server's load.
   */
  cpu_usage: number;
  /** V8 heap in use over the heap limit: what makes this process fail first. */
  memory_usage: number;
  /** p99 event-loop delay over the interval, in milliseconds. */
  event_loop_delay_ms: number;
}

export interface LoadSampler {
  /** The load since the previous sample (or since creation). */
  sample(): SystemLoad;
  stop(): void;
}

/** Event-loop delay of this much (p99) counts as saturation: requests then wait that long to start. */
export const SATURATED_EVENT_LOOP_DELAY_MS = 100;

/** A sampler over perf_hooks, os and v8: real measurements of this process and machine. */
export function createLoadSampler(): LoadSampler {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  return {
    sample() {
      const now = process.hrtime.bigint();
      const cpu = process.cpuUsage(lastCpu);
      const wallMicros = Number(now - lastAt) / 1000;
      lastCpu = process.cpuUsage();
      lastAt = now;
      const processShare = wallMicros > 0 ? (cpu.user + cpu.system) / wallMicros : 0;
      const heap = getHeapStatistics();
      const delayMs = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
      histogram.reset();
      return {
        cpu_usage: processShare,
        memory_usage: heap.heap_size_limit > 0 ? heap.used_heap_size / heap.heap_size_limit : 0,
        event_loop_delay_ms: delayMs,
      };
    },
    stop() {
      histogram.disable();
    },
  };
}

/** One number for "how loaded": the worst of CPU, memory and event-loop delay, each as a share. */
export function loadScore(load: SystemLoad): number {
  return Math.max(load.cpu_usage, load.memory_usage, load.event_loop_delay_ms / SATURATED_EVENT_LOOP_DELAY_MS);
}
