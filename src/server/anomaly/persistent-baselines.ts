import type { BaselineStore } from './baselines.js';
import { Lru } from './lru.js';
import type { AnomalyStatements } from './statements.js';

export interface PersistentBaselines<S> extends BaselineStore<S> {
  /** Writes every state changed since the last flush, in one transaction. */
  flush(): void;
}

function split(key: string): [string, string] {
  const at = key.indexOf('\0');
  return [key.slice(0, at), key.slice(at + 1)];
}

/**
 * A detector's baselines: the most recently seen `maxEntries` actors in memory, all of them in
 * SQLite (anomaly_baselines, in the encrypted file). An actor that leaves memory is written
 * first and read back on its next record, so the bound costs a lookup, not the learning.
 * States changed since the last flush are lost in a crash: at most one flush period of learning.
 */
export function createPersistentBaselines<S>(
  statements: AnomalyStatements,
  detector: string,
  maxEntries: number,
  now: () => number,
): PersistentBaselines<S> {
  const dirty = new Map<string, S>();
  const write = (key: string, state: S) => {
    const [tenantId, actor] = split(key);
    statements.putBaseline.run(tenantId, detector, actor, JSON.stringify(state), now());
  };
  const memory = new Lru<string, S>(maxEntries, (key, state) => {
    if (dirty.delete(key)) write(key, state);
  });
  const flushAll = statements.db.transaction(() => {
    for (const [key, state] of dirty) write(key, state);
    dirty.clear();
  });

  return {
    get(key) {
      const held = memory.get(key);
      if (held !== undefined) return held;
      const [tenantId, actor] = split(key);
      const row = statements.baseline.get(tenantId, detector, actor);
      if (!row) return undefined;
      try {
        const state = JSON.parse(row.state) as S;
        memory.set(key, state);
        return state;
      } catch {
        return undefined; // unreadable: relearn this actor rather than fail its requests
      }
    },
    set(key, state) {
      // A detector sets back the state it just got (get made it the most recent already).
      if (memory.peek(key) !== state) memory.set(key, state);
      dirty.set(key, state);
    },
    flush() {
      if (dirty.size > 0) flushAll();
    },
  };
}
