/**
 * A Map with a size bound: when full, the entry used longest ago goes first. Used for the
 * per-request caches, so that memory stays bounded whatever the number of users or keys.
 */
export interface BoundedCache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  /** Drops every entry for which `drop` says true. */
  deleteWhere(drop: (value: V, key: K) => boolean): void;
  readonly size: number;
}

export function createBoundedCache<K, V>(maxEntries: number): BoundedCache<K, V> {
  const entries = new Map<K, V>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        // Map keeps insertion order: moving a hit to the end makes the first key the least recent.
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as K);
    },
    delete: (key) => void entries.delete(key),
    deleteWhere(drop) {
      for (const [key, value] of entries) if (drop(value, key)) entries.delete(key);
    },
    get size() {
      return entries.size;
    },
  };
}
