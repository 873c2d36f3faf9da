import { afterEach, describe, expect, it } from 'vitest';
import { createKeyringHarness, type KeyringHarness } from '../kms/keyring/testing/harness.js';
import { createEventIdGenerator, createEventStore, type EventStore, type StoredEvent } from '../store/index.js';
import { createFieldCrypto, type FieldCrypto, type SealPoolOptions } from './index.js';
import { allocateSealMemory } from './seal-protocol.js';
import { decodeSealedRecord } from './sealed-record.js';

/**
 * The seal worker (seal-pool.ts, seal-worker.ts): a large append's values are encrypted on another
 * thread, and the records it writes read exactly like those sealed on the main thread. When the
 * worker is missing or stops answering, every event is still sealed, on the main thread.
 */

let h: KeyringHarness | undefined;
let fields: FieldCrypto | undefined;
let store: EventStore | undefined;

function build(sealWorker: false | SealPoolOptions): { fields: FieldCrypto; store: EventStore; h: KeyringHarness } {
  h = createKeyringHarness();
  fields = createFieldCrypto({ db: h.db, keyring: h.keyring, now: h.now, sealWorker });
  store = createEventStore({
    db: h.db,
    now: h.now,
    newEventId: createEventIdGenerator(),
    onListenerError: (error) => {
      throw error;
    },
    sealer: fields.sealer,
  });
  fields.policies.put('acme', 'person.registered', ['/ssn', '/card/number']);
  return { fields, store, h };
}

afterEach(() => {
  store?.close();
  fields?.close();
  h?.close();
  [h, fields, store] = [undefined, undefined, undefined];
});

const batch = (size: number, from = 0) =>
  Array.from({ length: size }, (_, i) => ({
    event_type: i % 5 === 4 ? 'person.noted' : 'person.registered',
    entity_id: `p-${(from + i) % 37}`,
    payload: {
      name: `n${from + i}`,
      ssn: `ssn-${from + i}-ünï`,
      card: { number: `4111 ${from + i}`, brand: 'visa' },
      ...(i % 7 === 3 ? { card: { brand: 'none' } } : {}),
    },
  }));

/** Appends batches until the worker has started (the first large append only starts it). */
async function appendUntilReady(target: { fields: FieldCrypto; store: EventStore }): Promise<void> {
  for (let round = 0; round < 100 && target.fields.sealWorker().state !== 'ready'; round += 1) {
    await target.store.appendBatch('acme', batch(100, 10_000 + round * 100));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(target.fields.sealWorker().state).toBe('ready');
}

function allEvents(target: { store: EventStore; h: KeyringHarness }): StoredEvent[] {
  return target.h.db
    .prepare<[string], { event_id: Buffer }>('SELECT event_id FROM events WHERE tenant_id = ? ORDER BY position')
    .all('acme')
    .map((row) => target.store.getEvent('acme', row.event_id));
}

function plaintextOf(target: { store: EventStore }, event: StoredEvent): unknown {
  return JSON.parse(target.store.reveal(event, 'plaintext').payloadJson) as unknown;
}

describe('the seal worker', () => {
  it('seals a large append on another thread, and every value reads back as it was sent', async () => {
    const target = build({});
    await appendUntilReady(target);
    const before = target.fields.sealWorker().sealed;
    const sent = batch(500);
    const { ingested } = await target.store.appendBatch('acme', sent);
    expect(ingested).toBe(500);
    const sealedEvents = sent.filter((event) => event.event_type === 'person.registered').length;
    expect(target.fields.sealWorker().sealed - before).toBe(sealedEvents);

    const stored = allEvents(target).slice(-500);
    stored.forEach((event, i) => {
      expect(plaintextOf(target, event)).toEqual(sent[i]!.payload);
      const raw = JSON.parse(event.payloadJson) as Record<string, unknown>;
      if (sent[i]!.event_type === 'person.registered') {
        expect(raw['ssn']).toBeNull();
        expect(decodeSealedRecord(event.sealed!)!.pointers).toEqual(
          'number' in sent[i]!.payload.card ? ['/ssn', '/card/number'] : ['/ssn'],
        );
      } else {
        expect(event.sealed).toBeNull();
        expect(raw['ssn']).toBe(sent[i]!.payload.ssn);
      }
    });
  });

  it('writes records that the main thread reads, moved nowhere: a record is bound to its own event', async () => {
    const target = build({});
    await appendUntilReady(target);
    await target.store.appendBatch('acme', batch(100));
    const events = allEvents(target)
      .slice(-100)
      .filter((event) => event.sealed !== null);
    const [first, second] = [events[0]!, events[1]!];
    // Another event's record under this event's id fails to open: the AAD binds the event.
    const swapped = target.store.reveal({ ...first, sealed: second.sealed }, 'plaintext');
    expect(JSON.stringify(swapped.payloadJson)).toContain('invalid_ciphertext');
  });

  it('leaves no key and no value in shared memory once it has sealed them', async () => {
    const memory = allocateSealMemory(1024 * 1024);
    const target = build({ memory });
    await appendUntilReady(target);
    const before = target.fields.sealWorker().sealed;
    await target.store.appendBatch('acme', batch(300, 20_000));
    expect(target.fields.sealWorker().sealed).toBeGreaterThan(before);
    const requests = Buffer.from(memory.requests);
    // The values were written there in clear (ssn-20000-ünï, …) and the keys next to them.
    expect(requests.includes('ssn-2')).toBe(false);
    expect(requests.every((byte) => byte === 0)).toBe(true);
  });

  it('starts once a field policy exists, before any append, and not before', () => {
    h = createKeyringHarness();
    fields = createFieldCrypto({ db: h.db, keyring: h.keyring, now: h.now, sealWorker: {} });
    expect(fields.sealWorker().state).toBe('idle');
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    expect(['starting', 'ready']).toContain(fields.sealWorker().state);
    fields.close();
    // A store opened over policies made earlier starts it at once.
    fields = createFieldCrypto({ db: h.db, keyring: h.keyring, now: h.now, sealWorker: {} });
    expect(['starting', 'ready']).toContain(fields.sealWorker().state);
  });

  it('is not used for small appends, which are sealed on the main thread at once', async () => {
    const target = build({});
    await target.store.appendBatch('acme', batch(10));
    expect(target.fields.sealWorker().sealed).toBe(0);
    expect(allEvents(target).map((event) => plaintextOf(target, event))).toEqual(batch(10).map((e) => e.payload));
  });

  it('seals on the main thread when the worker module is missing, and says why', async () => {
    const reasons: string[] = [];
    const target = build({
      workerUrl: new URL('file:///nonexistent/seal-worker.js'),
      onUnavailable: (reason) => reasons.push(reason),
    });
    const sent = batch(200);
    await target.store.appendBatch('acme', sent);
    expect(target.fields.sealWorker()).toMatchObject({ state: 'unavailable', sealed: 0 });
    expect(reasons).toEqual([expect.stringContaining('missing')]);
    expect(allEvents(target).map((event) => plaintextOf(target, event))).toEqual(sent.map((e) => e.payload));
  });

  it('gives up a worker that stops answering and seals the same append on the main thread', async () => {
    const reasons: string[] = [];
    const target = build({
      workerUrl: new URL('./testing/stuck-seal-worker.mjs', import.meta.url),
      answerTimeoutMs: 200,
      onUnavailable: (reason) => reasons.push(reason),
    });
    await target.store.appendBatch('acme', batch(100, 5_000));
    for (let i = 0; i < 100 && target.fields.sealWorker().state === 'starting'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const sent = batch(200);
    const { ingested } = await target.store.appendBatch('acme', sent);
    expect(ingested).toBe(200);
    expect(target.fields.sealWorker()).toMatchObject({ state: 'unavailable', sealed: 0 });
    expect(reasons).toEqual(['the seal worker stopped answering']);
    const stored = allEvents(target).slice(-200);
    expect(stored.map((event) => plaintextOf(target, event))).toEqual(sent.map((e) => e.payload));
    expect(stored.every((event, i) => (sent[i]!.event_type === 'person.registered') === (event.sealed !== null))).toBe(
      true,
    );
  });

  it('can be switched off: everything is sealed on the main thread', async () => {
    const target = build(false);
    await target.store.appendBatch('acme', batch(200));
    expect(target.fields.sealWorker()).toEqual({ state: 'off', sealed: 0 });
  });
});
