import { Lru } from './lru.js';

/**
 * Where a learning detector keeps its per-actor state. The detector only gets and sets; the
 * store bounds memory (least recently seen actors leave first) and, in production, writes the
 * states to SQLite so that a restart does not forget a week of learning.
 */
export interface BaselineStore<S> {
  get(key: string): S | undefined;
  set(key: string, state: S): void;
}

/** An in-memory store: for tests, and the memory tier of the persistent one. */
export function createMemoryBaselines<S>(maxEntries: number): BaselineStore<S> {
  const states = new Lru<string, S>(maxEntries);
  return { get: (key) => states.get(key), set: (key, state) => states.set(key, state) };
}

/** Exponential decay: a weight seen `elapsedMs` ago counts 0.5^(elapsed / halfLife). */
export function decayFactor(elapsedMs: number, halfLifeMs: number): number {
  return elapsedMs <= 0 ? 1 : Math.pow(0.5, elapsedMs / halfLifeMs);
}

/** Actor key inside a tenant; never a credential, only the actor's id. */
export function actorKey(tenantId: string, type: string, id: string): string {
  return `${tenantId}\0${type}:${id}`;
}
