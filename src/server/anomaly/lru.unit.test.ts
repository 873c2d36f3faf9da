import { describe, expect, it } from 'vitest';
import { Lru } from './lru.js';

describe('Lru', () => {
  it('evicts the least recently used, telling the owner, whether entries were used by get or set', () => {
    const evicted: string[] = [];
    const lru = new Lru<string, number>(3, (key) => evicted.push(key));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a is now the newest: b is the oldest
    expect(lru.get('a')).toBe(1); // using the newest again changes nothing
    lru.set('d', 4);
    expect(evicted).toEqual(['b']);
    expect(lru.get('c')).toBe(3);
    lru.set('e', 5);
    expect(evicted).toEqual(['b', 'a']);
    expect([...lru.values()].map(([key]) => key)).toEqual(['d', 'c', 'e']);
  });

  it('keeps its order right after the newest entry is deleted or peeked at', () => {
    const evicted: string[] = [];
    const lru = new Lru<string, number>(2, (key) => evicted.push(key));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.delete('b');
    lru.set('c', 3);
    expect(lru.get('a')).toBe(1); // a must move behind c, although it was the newest once
    lru.set('d', 4);
    expect(evicted).toEqual(['c']);
    expect(lru.peek('a')).toBe(1); // peek does not make a the newest
    lru.set('e', 5);
    expect(evicted).toEqual(['c', 'a']);
    expect(lru.size).toBe(2);
  });
});
