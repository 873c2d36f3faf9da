import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyringHarness, type KeyringHarness } from '../kms/keyring/testing/harness.js';
import {
  createEventIdGenerator,
  createEventStore,
  type EventStore,
  type AppendResult,
  type SealedColumn,
  type StoredEvent,
} from '../store/index.js';
import { createFieldCrypto, type FieldCrypto } from './index.js';
import { decodeSealedRecord, encodeSealedRecord, type SealedRecord } from './sealed-record.js';

/**
 * Field-level encryption over a real encrypted database and the real keyring and store: sealing at
 * ingest, the three views at read, tampering and moved ciphertexts, crypto-shredding, and the
 * rewrap job's steps and resumption.
 */

let h: KeyringHarness;
let fields: FieldCrypto;
let store: EventStore;
let steps: (() => void)[];

function build(): void {
  steps = [];
  fields = createFieldCrypto({
    db: h.db,
    keyring: h.keyring,
    now: h.now,
    scheduleRewrapStep: (step) => steps.push(step),
    rewrapStepRows: 3,
  });
  store = createEventStore({
    db: h.db,
    now: h.now,
    newEventId: createEventIdGenerator(),
    onListenerError: (error) => {
      throw error;
    },
    sealer: fields.sealer,
  });
}

beforeEach(() => {
  h = createKeyringHarness();
  build();
});

afterEach(() => {
  store.close();
  fields.close();
  h.close();
});

const person = (entity: string, ssn: string, extra: Record<string, unknown> = {}) => ({
  event_type: 'person.registered',
  entity_id: entity,
  payload: { name: 'Ann', ssn, card: { number: '4111 1111 1111 1111', brand: 'visa' }, ...extra },
});

async function appendOne(tenant: string, event: unknown): Promise<StoredEvent> {
  const result = await store.append(tenant, event);
  return store.getEvent(tenant, Buffer.from(result.event_id.replaceAll('-', ''), 'hex'));
}

function payloadOf(event: StoredEvent): Record<string, any> {
  return JSON.parse(event.payloadJson) as Record<string, any>;
}

function rawPayload(tenant: string, position: number): { payload: string; sealed: SealedColumn } {
  return h.db
    .prepare<[string, number], { payload: string; sealed: SealedColumn }>(
      'SELECT payload, sealed FROM events WHERE tenant_id = ? AND position = ?',
    )
    .get(tenant, position)!;
}

function rawRecord(tenant: string, position: number): SealedRecord {
  return decodeSealedRecord(rawPayload(tenant, position).sealed!)!;
}

/** The record as the sealer writes it, for hand edits. */
function encodeRecord(record: SealedRecord): Buffer {
  const { sealed } = record;
  return encodeSealedRecord(
    record.generation,
    Buffer.from(JSON.stringify(record.pointers)),
    sealed.subarray(0, 12),
    sealed.subarray(12, sealed.length - 16),
    sealed.subarray(sealed.length - 16),
  );
}

function setRawSealed(tenant: string, position: number, sealed: Buffer | string): void {
  h.db.prepare('UPDATE events SET sealed = ? WHERE tenant_id = ? AND position = ?').run(sealed, tenant, position);
}

describe('sealing at ingest', () => {
  it('stores ciphertext for the policy fields only, and shows each view its own form', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn', '/card/number']);
    const stored = await appendOne('acme', person('p-1', '123-45-6789'));

    const raw = rawPayload('acme', stored.position);
    expect(raw.payload).not.toContain('123-45-6789');
    expect(raw.payload).not.toContain('4111 1111');
    expect(Buffer.isBuffer(raw.sealed)).toBe(true);
    expect(decodeSealedRecord(raw.sealed!)).toEqual({
      generation: 1,
      pointers: ['/ssn', '/card/number'],
      sealed: expect.any(Buffer),
    });
    expect((raw.sealed as Buffer).includes('123-45-6789')).toBe(false);
    // The stored payload keeps its shape; the sealed values are null in it.
    expect(JSON.parse(raw.payload)).toEqual({ name: 'Ann', ssn: null, card: { number: null, brand: 'visa' } });

    expect(payloadOf(store.reveal(stored, 'plaintext'))).toEqual(person('p-1', '123-45-6789').payload);
    const redacted = payloadOf(store.reveal(stored, 'redacted'));
    expect(redacted).toEqual({
      name: 'Ann',
      ssn: { $encrypted: true, key: 'allsource.fields', version: 1 },
      card: { number: { $encrypted: true, key: 'allsource.fields', version: 1 }, brand: 'visa' },
    });
  });

  it('round-trips every JSON type, array elements and keys that need escaping in a pointer', async () => {
    fields.policies.put('acme', 't.all', ['/n', '/o', '/z', '/a/1', '/s~1lash', '/~0ilde', '/u']);
    const payload = {
      n: 12.5e3,
      o: { deep: [1, { x: null }] },
      z: null,
      a: ['keep', 'secret'],
      's/lash': true,
      '~ilde': false,
      u: 'naïve 🧾 \u202e',
    };
    const stored = await appendOne('acme', { event_type: 't.all', entity_id: 'e', payload });
    expect(rawRecord('acme', stored.position).pointers).toHaveLength(7);
    expect(payloadOf(store.reveal(stored, 'plaintext'))).toEqual(payload);
    expect(payloadOf(store.reveal(stored, 'redacted'))['a'][0]).toBe('keep');
  });

  it('leaves events alone when their type has no policy or the policy fields are absent', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const other = await appendOne('acme', { event_type: 'other', entity_id: 'e', payload: { ssn: 'visible' } });
    const absent = await appendOne('acme', { event_type: 'person.registered', entity_id: 'e', payload: { name: 'x' } });
    expect(rawPayload('acme', other.position)).toEqual({ payload: '{"ssn":"visible"}', sealed: null });
    expect(rawPayload('acme', absent.position)).toEqual({ payload: '{"name":"x"}', sealed: null });
  });

  it('applies a policy to new events only', async () => {
    const before = await appendOne('acme', person('p-1', 'before-policy'));
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const after = await appendOne('acme', person('p-1', 'after-policy'));
    expect(rawPayload('acme', before.position).payload).toContain('before-policy');
    expect(rawPayload('acme', after.position).payload).not.toContain('after-policy');
  });

  it('reads a client string shaped like a ciphertext verbatim: only listed pointers are ciphertexts', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const fake = 'asf:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const stored = await appendOne('acme', person('p-1', '1', { note: fake }));
    expect(payloadOf(store.reveal(stored, 'redacted'))['note']).toBe(fake);
  });

  it('treats a retried event_id with the same content as a repeat, even though the ciphertext differs', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const event = { ...person('p-1', '555'), event_id: '01890a5d-ac96-774b-bcce-b302099a8057' };
    const first = await store.append('acme', event);
    const again = await store.append('acme', event);
    expect(again).toEqual(first);
    await expect(store.append('acme', { ...event, payload: { ...event.payload, ssn: '556' } })).rejects.toMatchObject({
      code: 'duplicate_event_id',
    });
  });

  it('tells a repeated event_id within one batch by its sealed values too', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const id = '01890a5d-ac96-774b-bcce-b302099a8058';
    const event = { ...person('p-1', '555'), event_id: id };
    const repeated = await store.appendBatch('acme', [event, event]);
    expect(repeated).toMatchObject({ total: 2, ingested: 1 });
    expect(repeated.events[1]).toEqual(repeated.events[0]);
    // Same stored (nulled) payload, different sealed value: not a retry.
    const other = { ...person('p-1', '556'), event_id: '01890a5d-ac96-774b-bcce-b302099a8059' };
    await expect(
      store.appendBatch('acme', [other, { ...other, payload: person('p-1', '557').payload }]),
    ).rejects.toMatchObject({ code: 'duplicate_event_id' });
  });

  it('reads the payload once, when append is called: changing it afterwards changes nothing stored', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const sealed = person('p-1', '555');
    const clear = { event_type: 'person.noted', entity_id: 'p-1', payload: { note: 'as sent' } };
    const pending = [store.append('acme', sealed), store.append('acme', clear)];
    sealed.payload.ssn = 'changed';
    sealed.payload.name = 'changed';
    clear.payload.note = 'changed';
    const [first, second] = await Promise.all(pending);
    const stored = (result: AppendResult): Record<string, any> =>
      payloadOf(
        store.reveal(store.getEvent('acme', Buffer.from(result.event_id.replaceAll('-', ''), 'hex')), 'plaintext'),
      );
    expect(stored(first!)).toMatchObject({ name: 'Ann', ssn: '555' });
    expect(stored(second!)).toEqual({ note: 'as sent' });
  });

  it('uses one data key per subject, never shared between entities or tenants', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    fields.policies.put('globex', 'person.registered', ['/ssn']);
    await appendOne('acme', person('p-1', '1'));
    await appendOne('acme', person('p-1', '2'));
    await appendOne('acme', person('p-2', '3'));
    await appendOne('globex', person('p-1', '4'));
    const keys = h.db.prepare('SELECT tenant_id, entity_id, generation FROM subject_keys ORDER BY 1, 2').all();
    expect(keys).toEqual([
      { tenant_id: 'acme', entity_id: 'p-1', generation: 1 },
      { tenant_id: 'acme', entity_id: 'p-2', generation: 1 },
      { tenant_id: 'globex', entity_id: 'p-1', generation: 1 },
    ]);
  });
});

describe('tampering', () => {
  const unavailable = { $encrypted: true, key: 'allsource.fields', version: 1, unavailable: 'invalid_ciphertext' };
  const revealedSsn = (tenant: string, event: StoredEvent): unknown =>
    payloadOf(store.reveal(store.getEvent(tenant, idBytes(event)), 'plaintext'))['ssn'];

  it('refuses every changed byte of an event ciphertext', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const stored = await appendOne('acme', person('p-1', '123-45-6789'));
    const original = rawPayload('acme', stored.position).sealed as Buffer;
    const record = decodeSealedRecord(original)!;
    // Every byte of nonce ‖ ciphertext ‖ tag, which end the record.
    for (let i = original.length - record.sealed.length; i < original.length; i += 1) {
      const changed = Buffer.from(original);
      changed[i]! ^= 0x01;
      setRawSealed('acme', stored.position, changed);
      expect(revealedSsn('acme', stored), `byte ${i}`).toEqual(unavailable);
    }
    setRawSealed('acme', stored.position, original);
    expect(revealedSsn('acme', stored)).toBe('123-45-6789');
  });

  it('refuses a ciphertext moved to other fields, another event, entity or tenant', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn', '/card/number']);
    fields.policies.put('globex', 'person.registered', ['/ssn', '/card/number']);
    const source = await appendOne('acme', person('p-1', 'SOURCE'));
    const sealed = rawPayload('acme', source.position).sealed as Buffer;
    const record = decodeSealedRecord(sealed)!;

    // The same ciphertext claimed for the fields in another order: ssn and card number swapped.
    setRawSealed('acme', source.position, encodeRecord({ ...record, pointers: [...record.pointers].reverse() }));
    expect(revealedSsn('acme', source)).toEqual(unavailable);
    setRawSealed('acme', source.position, sealed);

    const sameEntity = await appendOne('acme', person('p-1', 'LATER'));
    const otherEntity = await appendOne('acme', person('p-2', 'OTHER'));
    const otherTenant = await appendOne('globex', person('p-1', 'FOREIGN'));
    for (const [tenant, target] of [
      ['acme', sameEntity],
      ['acme', otherEntity],
      ['globex', otherTenant],
    ] as const) {
      setRawSealed(tenant, target.position, sealed);
      expect(revealedSsn(tenant, target), `${tenant} ${target.entity_id} v${target.version}`).toEqual(unavailable);
    }
    expect(revealedSsn('acme', source)).toBe('SOURCE');
  });

  it('answers markers, not an error, for a hand-edited record that is not a ciphertext at all', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const stored = await appendOne('acme', person('p-1', 'x'));
    const good = rawPayload('acme', stored.position).sealed as Buffer;
    const pointersEnd = 9 + good.readUInt32BE(5);
    const brokenRecords: (Buffer | string)[] = [
      // Too short for nonce and tag; the pointers still name what to hide.
      good.subarray(0, pointersEnd + 20),
      // Records in the JSON text format of earlier versions.
      '{"g":1,"f":["/ssn"]}',
      '{"g":"1","f":["/ssn"],"c":"AA=="}',
      '{"g":1,"f":["/ssn"],"c":7}',
    ];
    for (const broken of brokenRecords) {
      setRawSealed('acme', stored.position, broken);
      expect(revealedSsn('acme', stored), String(broken)).toMatchObject({
        $encrypted: true,
        unavailable: 'invalid_ciphertext',
      });
    }
    // Not even JSON, or a pointer list longer than the record: which fields it sealed is unknown,
    // and they read as stored, null. Nothing leaks.
    const longerThanRecord = Buffer.concat([good.subarray(0, 5), Buffer.from([0, 0, 0, 200]), good.subarray(9)]);
    for (const unreadable of ['not json', Buffer.from([0x02, 1, 2, 3]), Buffer.alloc(0), longerThanRecord]) {
      setRawSealed('acme', stored.position, unreadable);
      expect(revealedSsn('acme', stored)).toBeNull();
    }
  });

  it('still reads records in the JSON text format that versions before the BLOB record wrote', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn', '/card/number']);
    const stored = await appendOne('acme', person('p-1', '123-45-6789'));
    const record = rawRecord('acme', stored.position);
    const legacy = JSON.stringify({ g: record.generation, f: record.pointers, c: record.sealed.toString('base64') });
    setRawSealed('acme', stored.position, legacy);
    expect(typeof rawPayload('acme', stored.position).sealed).toBe('string');
    expect(payloadOf(store.reveal(store.getEvent('acme', idBytes(stored)), 'plaintext'))).toEqual(
      person('p-1', '123-45-6789').payload,
    );
  });
});

function idBytes(event: StoredEvent): Buffer {
  return Buffer.from(event.id.replaceAll('-', ''), 'hex');
}

describe('crypto-shredding', () => {
  it('makes the subject sealed values read $shredded for good, keeps the events, and starts a new key for new ones', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const old = await appendOne('acme', person('p-1', 'OLD'));
    const neighbour = await appendOne('acme', person('p-2', 'NEIGHBOUR'));
    // Cached in memory before the forget: the cache must not outlive it.
    expect(payloadOf(store.reveal(old, 'plaintext'))['ssn']).toBe('OLD');

    expect(fields.forget('acme', 'p-1')).toMatchObject({ entity_id: 'p-1', forgotten: true, keys_destroyed: 1 });
    expect(payloadOf(store.reveal(store.getEvent('acme', idBytes(old)), 'plaintext'))['ssn']).toEqual({
      $shredded: true,
    });
    expect(payloadOf(store.reveal(store.getEvent('acme', idBytes(old)), 'redacted'))['ssn']).toEqual({
      $shredded: true,
    });
    expect(payloadOf(store.reveal(neighbour, 'plaintext'))['ssn']).toBe('NEIGHBOUR');
    expect(store.stats('acme').total_events).toBe(2);

    const later = await appendOne('acme', person('p-1', 'LATER'));
    expect(payloadOf(store.reveal(later, 'plaintext'))['ssn']).toBe('LATER');
    expect(payloadOf(store.reveal(store.getEvent('acme', idBytes(old)), 'plaintext'))['ssn']).toEqual({
      $shredded: true,
    });
    expect(fields.forget('acme', 'p-1').keys_destroyed).toBe(1);
    expect(fields.forget('acme', 'p-1').keys_destroyed).toBe(0);
  });

  it('stays shredded after a restart, and the wrapped key is gone from the database', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const old = await appendOne('acme', person('p-1', 'OLD'));
    const wrapped = h.db.prepare<[], { wrapped_key: string }>('SELECT wrapped_key FROM subject_keys').get()!
      .wrapped_key;
    fields.forget('acme', 'p-1');
    store.close();
    h.reopen();
    build();
    expect(payloadOf(store.reveal(store.getEvent('acme', idBytes(old)), 'plaintext'))['ssn']).toEqual({
      $shredded: true,
    });
    const dump = h.db
      .prepare<[], { sql: string }>(`SELECT group_concat(quote(wrapped_key)) AS sql FROM subject_keys`)
      .get();
    expect(dump?.sql ?? '').not.toContain(wrapped.slice(6, 40));
  });

  it('shreds a whole tenant when its fields key is destroyed, and refuses to seal with a disabled key', async () => {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const stored = await appendOne('acme', person('p-1', 'X'));
    h.keyring.disable('acme', 'allsource.fields');
    fields.keyChanged('acme');
    expect(payloadOf(store.reveal(stored, 'plaintext'))['ssn']).toEqual({
      $encrypted: true,
      key: 'allsource.fields',
      version: 1,
      unavailable: 'key_disabled',
    });
    await expect(store.append('acme', person('p-9', 'Y'))).rejects.toMatchObject({ code: 'key_disabled' });
    h.keyring.enable('acme', 'allsource.fields');
    h.keyring.destroy('acme', 'allsource.fields', 'allsource.fields');
    fields.keyChanged('acme');
    expect(payloadOf(store.reveal(stored, 'plaintext'))['ssn']).toEqual({ $shredded: true });
  });
});

describe('rewrap job', () => {
  async function subjects(count: number): Promise<StoredEvent[]> {
    fields.policies.put('acme', 'person.registered', ['/ssn']);
    const events: StoredEvent[] = [];
    for (let i = 0; i < count; i += 1) events.push(await appendOne('acme', person(`p-${i}`, `ssn-${i}`)));
    return events;
  }

  const versions = () =>
    h.db
      .prepare<[], { key_version: number; n: number }>('SELECT key_version, count(*) AS n FROM subject_keys GROUP BY 1')
      .all();

  it('moves every subject key to the newest version step by step, with progress, and old values still read', async () => {
    const events = await subjects(8);
    h.keyring.rotate('acme', 'allsource.fields');
    expect(fields.rewrap.start('acme')).toMatchObject({
      status: 'running',
      target_version: 2,
      total: 8,
      done: 0,
      remaining: 8,
    });
    steps.shift()!();
    expect(fields.rewrap.status('acme')).toMatchObject({ status: 'running', done: 3, remaining: 5 });
    while (steps.length > 0) steps.shift()!();
    expect(fields.rewrap.status('acme')).toMatchObject({ status: 'completed', done: 8, remaining: 0 });
    expect(versions()).toEqual([{ key_version: 2, n: 8 }]);

    // Version 1 can now be retired without losing a value.
    h.keyring.configure('acme', 'allsource.fields', { min_decryption_version: 2 });
    fields.keyChanged('acme');
    for (const [i, event] of events.entries()) {
      expect(payloadOf(store.reveal(event, 'plaintext'))['ssn']).toBe(`ssn-${i}`);
      expect(payloadOf(store.reveal(event, 'redacted'))['ssn']).toMatchObject({ version: 2 });
    }
  });

  it('without the rewrap, retiring the old version makes the values unavailable (not lost)', async () => {
    const [event] = await subjects(1);
    h.keyring.rotate('acme', 'allsource.fields');
    h.keyring.configure('acme', 'allsource.fields', { min_decryption_version: 2 });
    fields.keyChanged('acme');
    expect(payloadOf(store.reveal(event!, 'plaintext'))['ssn']).toMatchObject({ unavailable: 'key_version_disabled' });
    h.keyring.configure('acme', 'allsource.fields', { min_decryption_version: 1 });
    fields.keyChanged('acme');
    expect(payloadOf(store.reveal(event!, 'plaintext'))['ssn']).toBe('ssn-0');
  });

  it('resumes after a restart where the last committed step stopped', async () => {
    await subjects(7);
    h.keyring.rotate('acme', 'allsource.fields');
    fields.rewrap.start('acme');
    steps.shift()!();
    // The process dies here: the scheduled next step never runs.
    store.close();
    fields.close();
    h.reopen();
    build();
    expect(fields.rewrap.status('acme')).toMatchObject({ status: 'running', done: 3, remaining: 4 });
    expect(fields.rewrap.resume()).toBe(1);
    while (steps.length > 0) steps.shift()!();
    expect(fields.rewrap.status('acme')).toMatchObject({ status: 'completed', done: 7, remaining: 0 });
    expect(versions()).toEqual([{ key_version: 2, n: 7 }]);
  });

  it('has nothing to do for a tenant that never sealed a value', () => {
    expect(fields.rewrap.start('globex')).toEqual({ status: 'never_run', remaining: 0 });
    expect(steps).toHaveLength(0);
  });
});
