/**
 * The events every figure writes: orders spread over a fixed set of entities, a handful of
 * event types, ~200-byte JSON payloads. Generation is seeded, so the store and its limit
 * see exactly the same events, and a run is comparable with the previous one.
 */

export const ENTITY_COUNT = 1_000;
export const BATCH_SIZE = 1_000;
export const EVENT_TYPES = ['order.created', 'order.paid', 'order.shipped', 'order.delivered', 'order.cancelled'];

export interface OrderPayload {
  order_id: string;
  customer_id: string;
  amount_cents: number;
  currency: string;
  items: Array<{ sku: string; quantity: number }>;
  note: string;
}

/** An event as a client sends it (the wire NewEvent, without the optional fields). */
export interface BenchEvent {
  event_type: string;
  entity_id: string;
  payload: OrderPayload;
}

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to spread events; Math.random cannot be seeded. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function digits(rng: Rng, width: number): string {
  return String(Math.floor(rng() * 10 ** width)).padStart(width, '0');
}

export function entityName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(6, '0')}`;
}

/** One event; its payload serialises to about 200 bytes. */
export function makeEvent(rng: Rng, entityId: string): BenchEvent {
  return {
    event_type: pick(rng, EVENT_TYPES),
    entity_id: entityId,
    payload: {
      order_id: entityId,
      customer_id: `cust-${digits(rng, 6)}`,
      amount_cents: Math.floor(rng() * 1_000_000),
      currency: pick(rng, ['EUR', 'USD', 'GBP']),
      items: [
        { sku: `SKU-${digits(rng, 8)}`, quantity: 1 + Math.floor(rng() * 5) },
        { sku: `SKU-${digits(rng, 8)}`, quantity: 1 + Math.floor(rng() * 5) },
      ],
      note: `door ${digits(rng, 4)}, ring twice`,
    },
  };
}

/** `size` events, each for one of `entities` entities named `<prefix>-NNNNNN`, chosen at random. */
export function makeBatch(rng: Rng, size: number, prefix: string, entities = ENTITY_COUNT): BenchEvent[] {
  const batch: BenchEvent[] = [];
  for (let i = 0; i < size; i++) batch.push(makeEvent(rng, entityName(prefix, Math.floor(rng() * entities))));
  return batch;
}

/** `total` events in batches of BATCH_SIZE, generated up front so no figure times the generator. */
export function makeBatches(seed: number, total: number, prefix = 'order'): BenchEvent[][] {
  const rng = createRng(seed);
  const batches: BenchEvent[][] = [];
  for (let done = 0; done < total; done += BATCH_SIZE) {
    batches.push(makeBatch(rng, Math.min(BATCH_SIZE, total - done), prefix));
  }
  return batches;
}

/** Every event of one entity, as one batch (for the "read one stream" figure). */
export function makeStream(seed: number, entityId: string, size: number): BenchEvent[] {
  const rng = createRng(seed);
  return Array.from({ length: size }, () => makeEvent(rng, entityId));
}
