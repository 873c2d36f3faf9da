import { Lru } from './lru.js';

export interface WindowEntry<T> {
  at: number;
  value: T;
}

/**
 * Sliding time windows per key (an address, an account, an actor), bounded twice: at most
 * `maxKeys` keys (least recently seen dropped) and at most `maxPerKey` entries a key (oldest
 * dropped). A detector only needs to know that a threshold is reached, so a cap a few times
 * the threshold loses nothing it judges by. Short windows are not persisted: they relearn in
 * one window after a restart.
 */
export class KeyedWindows<T> {
  private readonly keys: Lru<string, WindowEntry<T>[]>;

  constructor(
    private readonly windowMs: number,
    private readonly maxPerKey: number,
    maxKeys: number,
  ) {
    this.keys = new Lru(maxKeys);
  }

  /** Adds an entry at `at` and returns the key's entries inside the window ending at `at`. */
  add(key: string, at: number, value: T): readonly WindowEntry<T>[] {
    const entries = this.prune(key, at);
    entries.push({ at, value });
    if (entries.length > this.maxPerKey) entries.splice(0, entries.length - this.maxPerKey);
    this.keys.set(key, entries);
    return entries;
  }

  /** The key's entries inside the window ending at `at`, without adding one. */
  peek(key: string, at: number): readonly WindowEntry<T>[] {
    return this.keys.get(key) === undefined ? [] : this.prune(key, at);
  }

  private prune(key: string, at: number): WindowEntry<T>[] {
    const entries = this.keys.get(key) ?? [];
    const from = at - this.windowMs;
    let drop = 0;
    while (drop < entries.length && entries[drop]!.at <= from) drop += 1;
    if (drop > 0) entries.splice(0, drop);
    return entries;
  }
}
