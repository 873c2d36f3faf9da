import { compared, type Figure } from './report.js';
import { openFreshDatabase } from './in-process.js';
import { log, nowMs, type Resources } from './support.js';
import { createEventIdGenerator, createEventStore } from '../src/server/store/index.js';

export interface GroupCommitOptions {
  appends: number;
  inFlight: number;
}

/**
 * Does group commit pay? The same single-event appends into the store, once with `inFlight`
 * of them outstanding at a time (they share transactions and syncs) and once one at a time
 * (each its own transaction and sync, which is what the store would do without group commit).
 */
export async function measureGroupCommit(resources: Resources, options: GroupCommitOptions): Promise<Figure> {
  const db = openFreshDatabase(resources.tempDir('group-commit'));
  const store = createEventStore({
    db,
    now: Date.now,
    newEventId: createEventIdGenerator(),
    onListenerError: (error) => console.error(error),
  });
  const event = (i: number) => ({ event_type: 'gc.appended', entity_id: `gc-${i % 500}`, payload: { i } });
  try {
    let start = nowMs();
    for (let i = 0; i < options.appends; i++) await store.append('default', event(i));
    const oneAtATime = options.appends / ((nowMs() - start) / 1000);

    start = nowMs();
    for (let i = 0; i < options.appends; i += options.inFlight) {
      const wave = Array.from({ length: Math.min(options.inFlight, options.appends - i) }, (_, j) =>
        store.append('default', event(i + j)),
      );
      await Promise.all(wave);
    }
    const grouped = options.appends / ((nowMs() - start) / 1000);
    log(`group commit: ${Math.round(grouped)} appends/s grouped, ${Math.round(oneAtATime)} one at a time`);
    const figure = compared(
      `single appends, ${options.inFlight} in flight (group commit)`,
      grouped,
      'appends/s',
      { name: 'one at a time, a commit each', value: oneAtATime, unit: 'appends/s' },
      'higher-is-better',
    );
    figure.note = `${options.appends.toLocaleString('en-US')} appends each way, in-process, durability full; a ratio above 1 means group commit pays`;
    return figure;
  } finally {
    store.close();
    db.close();
  }
}
