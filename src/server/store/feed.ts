import type { PayloadView } from './types.js';
/** One committed event as subscribers see it: enough to filter on, plus its wire JSON. */
export interface FeedItem {
  readonly position: number;
  readonly entityId: string;
  readonly eventType: string;
  /** The EventDto as JSON text, as a reader with this view may see it. */
  jsonFor(view: PayloadView): string;
}

export type FeedListener = (items: readonly FeedItem[]) => void;

export interface FeedOptions {
  /** Recent events kept per tenant so that live subscribers need not go back to SQLite. */
  ringSize: number;
  /** Tenants whose recent events are kept; the least recently written drop out first. */
  maxTenants: number;
}

export interface Feed {
  publish(tenantId: string, items: readonly FeedItem[]): void;
  /** Events were committed but not published (nobody listened): forget what no longer joins up. */
  skip(tenantId: string): void;
  hasListeners(tenantId: string): boolean;
  /** Calls `listener` with every batch committed for the tenant from now on. */
  listen(tenantId: string, listener: FeedListener): () => void;
  /**
   * Up to `max` events after `position` from memory, or undefined when memory does not
   * reach back that far (the caller then reads SQLite).
   */
  recentAfter(tenantId: string, position: number, max: number): FeedItem[] | undefined;
}

interface Ring {
  items: FeedItem[];
}

/**
 * The live side of subscriptions: a bounded ring of recent events per tenant and the
 * listeners to wake. It holds no state that SQLite does not have; losing it costs speed only.
 */
export function createFeed(options: FeedOptions): Feed {
  const rings = new Map<string, Ring>();
  const listeners = new Map<string, Set<FeedListener>>();

  function ringFor(tenantId: string): Ring {
    let ring = rings.get(tenantId);
    if (ring) {
      // Re-insert so Map order is least-recently-written first.
      rings.delete(tenantId);
    } else {
      ring = { items: [] };
      if (rings.size >= options.maxTenants) rings.delete(rings.keys().next().value as string);
    }
    rings.set(tenantId, ring);
    return ring;
  }

  return {
    publish(tenantId, items) {
      if (items.length === 0) return;
      const ring = ringFor(tenantId);
      const last = ring.items.at(-1);
      // A gap would make recentAfter lie; start the ring afresh instead.
      if (last && last.position + 1 !== items[0]!.position) ring.items = [];
      ring.items.push(...items);
      if (ring.items.length > options.ringSize) ring.items.splice(0, ring.items.length - options.ringSize);
      for (const listener of listeners.get(tenantId) ?? []) listener(items);
    },

    skip(tenantId) {
      rings.delete(tenantId);
    },

    hasListeners(tenantId) {
      return listeners.has(tenantId);
    },

    listen(tenantId, listener) {
      let set = listeners.get(tenantId);
      if (!set) listeners.set(tenantId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(tenantId);
      };
    },

    recentAfter(tenantId, position, max) {
      const items = rings.get(tenantId)?.items;
      if (!items || items.length === 0) return undefined;
      const first = items[0]!.position;
      if (position + 1 < first) return undefined;
      const start = position + 1 - first;
      return items.slice(start, start + max);
    },
  };
}

/** What a subscriber wants; every given condition must hold. */
export interface FeedFilter {
  entityId?: string;
  /** The event type is one of these, or starts with one of `eventTypePrefixes`. */
  eventTypes?: readonly string[];
  eventTypePrefixes?: readonly string[];
}

export function matchesFilter(item: FeedItem, filter: FeedFilter): boolean {
  if (filter.entityId !== undefined && item.entityId !== filter.entityId) return false;
  if (filter.eventTypes === undefined && filter.eventTypePrefixes === undefined) return true;
  return (
    (filter.eventTypes?.includes(item.eventType) ?? false) ||
    (filter.eventTypePrefixes?.some((prefix) => item.eventType.startsWith(prefix)) ?? false)
  );
}
