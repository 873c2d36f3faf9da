/**
 * A Map bounded to `max` entries, least recently used first out. Unlike cache/BoundedCache it
 * tells the owner what it evicts, so a learned baseline can be saved before it leaves memory.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>();
  /**
   * The most recently used key, so that using it again moves nothing: a Map keeps insertion
   * order, and moving an entry to the end is a delete and a set (0.4 µs a record in the server,
   * where one actor, a service's key, usually sends request after request).
   */
  private newest: K | undefined;

  constructor(
    private readonly max: number,
    private readonly onEvict: (key: K, value: V) => void = () => undefined,
  ) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined && key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, value);
      this.newest = key;
    }
    return value;
  }

  /** The value without making it the most recently used. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    if (this.entries.size > this.max) {
      const [oldKey, oldValue] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldKey);
      this.onEvict(oldKey, oldValue);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
    if (key === this.newest) this.newest = undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  values(): IterableIterator<[K, V]> {
    return this.entries.entries();
  }
}
