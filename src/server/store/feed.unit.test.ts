import { describe, expect, it } from 'vitest';
import { createFeed, matchesFilter, type FeedItem } from './index.js';

const item = (position: number, eventType = 'a.b', entityId = 'e'): FeedItem => ({
  position,
  eventType,
  entityId,
  jsonFor: () => `{"p":${position}}`,
});

describe('feed', () => {
  it('keeps a bounded ring per tenant and answers only what it holds', () => {
    const feed = createFeed({ ringSize: 3, maxTenants: 2 });
    feed.publish('t', [item(1), item(2), item(3), item(4)]);
    expect(feed.recentAfter('t', 0, 10)).toBeUndefined(); // position 1 fell out of the ring
    expect(feed.recentAfter('t', 1, 10)?.map((i) => i.position)).toEqual([2, 3, 4]);
    expect(feed.recentAfter('t', 2, 1)?.map((i) => i.position)).toEqual([3]);
    expect(feed.recentAfter('t', 4, 10)).toEqual([]);
    expect(feed.recentAfter('other', 0, 10)).toBeUndefined();
  });

  it('drops the least recently written tenant past maxTenants', () => {
    const feed = createFeed({ ringSize: 10, maxTenants: 2 });
    feed.publish('a', [item(1)]);
    feed.publish('b', [item(1)]);
    feed.publish('a', [item(2)]);
    feed.publish('c', [item(1)]);
    expect(feed.recentAfter('b', 0, 10)).toBeUndefined();
    expect(feed.recentAfter('a', 0, 10)?.length).toBe(2);
  });

  it('restarts a ring rather than lie about a gap', () => {
    const feed = createFeed({ ringSize: 10, maxTenants: 2 });
    feed.publish('t', [item(1)]);
    feed.publish('t', [item(5)]);
    expect(feed.recentAfter('t', 1, 10)).toBeUndefined();
    expect(feed.recentAfter('t', 4, 10)?.map((i) => i.position)).toEqual([5]);
  });

  it('tells listeners of their tenant only, until they stop listening', () => {
    const feed = createFeed({ ringSize: 10, maxTenants: 2 });
    const heard: number[] = [];
    const stop = feed.listen('t', (items) => heard.push(...items.map((i) => i.position)));
    feed.publish('t', [item(1)]);
    feed.publish('u', [item(1)]);
    stop();
    feed.publish('t', [item(2)]);
    expect(heard).toEqual([1]);
  });

  it('knows whether a tenant has listeners, and drops a ring whose events were skipped', () => {
    const feed = createFeed({ ringSize: 10, maxTenants: 2 });
    expect(feed.hasListeners('t')).toBe(false);
    const stop = feed.listen('t', () => {});
    expect(feed.hasListeners('t')).toBe(true);
    feed.publish('t', [item(1), item(2)]);
    stop();
    expect(feed.hasListeners('t')).toBe(false);
    feed.skip('t');
    expect(feed.recentAfter('t', 1, 10)).toBeUndefined();
  });

  it('matches filters', () => {
    const e = item(1, 'order.paid', 'o1');
    expect(matchesFilter(e, {})).toBe(true);
    expect(matchesFilter(e, { entityId: 'o1' })).toBe(true);
    expect(matchesFilter(e, { entityId: 'o2' })).toBe(false);
    expect(matchesFilter(e, { eventTypes: ['order.paid'] })).toBe(true);
    expect(matchesFilter(e, { eventTypePrefixes: ['order.'] })).toBe(true);
    expect(matchesFilter(e, { eventTypes: ['x'], eventTypePrefixes: ['user.'] })).toBe(false);
  });
});
