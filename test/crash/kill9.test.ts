import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, tempDir, newApiKey } from '../support/server.js';
import {
  randomMasterKeyHex,
  startServerProcess,
  stopServerProcess,
  type ChildServer,
} from '../support/child-server.js';

/**
 * kill -9 in the middle of ingest: every event the server acknowledged with 201 must be
 * there after a restart, exactly once, at the position and version it was acknowledged
 * with, and the log must be dense (positions 1..N, each entity's versions 1..k).
 */

const CLIENTS = 8;
const ENTITIES = 24;
/** Kill once this many events were acknowledged, or at the latest after KILL_AFTER_MS. */
const KILL_AT_ACKS = 1500;
const MIN_RUN_MS = 400;
const KILL_AFTER_MS = 4000;

interface Ack {
  event_id: string;
  version: number;
  position: number;
}

interface StoredEvent {
  id: string;
  entity_id: string;
  event_type: string;
  payload: { client: number; seq: number };
  version: number;
  position: number;
}

function newEvent(client: number, seq: number) {
  return {
    event_id: randomUUID(),
    event_type: seq % 3 === 0 ? 'crash.batch_item' : 'crash.single',
    entity_id: `entity-${(client * 7 + seq) % ENTITIES}`,
    payload: { client, seq },
  };
}

/**
 * One client: alternates single events and batches of 2 to 5 until told to stop or the
 * server goes away. Records what was sent and what was acknowledged.
 */
async function runClient(
  url: string,
  client: number,
  state: { stop: boolean; inFlight: number; sent: Set<string>; acks: Map<string, Ack> },
): Promise<void> {
  let seq = 0;
  while (!state.stop) {
    const single = seq % 2 === 0;
    const events = Array.from({ length: single ? 1 : 2 + (seq % 4) }, () => newEvent(client, seq++));
    for (const event of events) state.sent.add(event.event_id);
    state.inFlight += 1;
    try {
      const res = single
        ? await api(url, '/api/v1/events', { json: events[0] })
        : await api(url, '/api/v1/events/batch', { json: { events } });
      if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${res.text}`);
      const results: Ack[] = single ? [res.body] : res.body.events;
      expect(results).toHaveLength(events.length);
      results.forEach((ack, i) => {
        expect(ack.event_id).toBe(events[i]!.event_id);
        state.acks.set(ack.event_id, ack);
      });
    } catch (error) {
      // The server was killed under us: the request is in doubt, and this client is done.
      if (state.stop) return;
      throw error;
    } finally {
      state.inFlight -= 1;
    }
  }
}

async function readAll(url: string): Promise<StoredEvent[]> {
  const res = await api(url, '/api/v1/events/query');
  expect(res.status).toBe(200);
  expect(res.body.has_more).toBe(false);
  expect(res.body.count).toBe(res.body.events.length);
  return res.body.events;
}

const cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

describe.each<{ durability: 'full' | 'normal'; env: Record<string, string> }>([
  { durability: 'full', env: {} },
  { durability: 'normal', env: { ALLSOURCE_DURABILITY: 'normal' } },
])('SIGKILL mid-ingest with durability $durability', ({ durability, env }) => {
  it('keeps every acknowledged event exactly once, with dense positions and versions', async () => {
    const root = tempDir('allsource-kill9-');
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const options = {
      dataDir: join(root, 'data'),
      configDir: join(root, 'config'),
      masterKeyHex: randomMasterKeyHex(),
      apiKey: newApiKey(),
      env,
    };

    const first: ChildServer = await startServerProcess(options);
    cleanup.push(() => stopServerProcess(first));
    const health = await api(first.url, '/health');
    expect(health.body.storage).toMatchObject({ encrypted: true, durability });

    const state = { stop: false, inFlight: 0, sent: new Set<string>(), acks: new Map<string, Ack>() };
    const clients = Array.from({ length: CLIENTS }, (_, i) => runClient(first.url, i, state));
    const clientsDone = Promise.all(clients);
    // Surface a client's failure at once instead of waiting for the kill.
    let clientFailure: unknown;
    clientsDone.catch((error: unknown) => (clientFailure = error));

    const startedAt = Date.now();
    while (
      clientFailure === undefined &&
      Date.now() - startedAt < KILL_AFTER_MS &&
      (state.acks.size < KILL_AT_ACKS || Date.now() - startedAt < MIN_RUN_MS)
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (clientFailure !== undefined) throw clientFailure;

    // Mid-ingest: requests are in flight at the moment of the kill.
    const inFlightAtKill = state.inFlight;
    state.stop = true;
    first.child.kill('SIGKILL');
    const exit = await first.exited;
    await clientsDone;
    expect(exit.signal).toBe('SIGKILL');
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(state.acks.size).toBeGreaterThan(0);

    const second = await startServerProcess(options);
    cleanup.push(() => stopServerProcess(second));
    const events = await readAll(second.url);

    // No duplicates, and nothing that no client sent.
    const ids = events.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const phantoms = ids.filter((id) => !state.sent.has(id));
    expect(phantoms).toEqual([]);

    // Every acknowledged event is there, where the acknowledgement said it was.
    const byId = new Map(events.map((event) => [event.id, event]));
    const missing = [...state.acks.keys()].filter((id) => !byId.has(id));
    expect(missing).toEqual([]);
    for (const ack of state.acks.values()) {
      const stored = byId.get(ack.event_id)!;
      expect({ position: stored.position, version: stored.version }).toEqual({
        position: ack.position,
        version: ack.version,
      });
    }

    // Positions are 1..N with no gap; each entity's versions are 1..k in position order.
    expect(events.map((event) => event.position)).toEqual(events.map((_, i) => i + 1));
    const versions = new Map<string, number[]>();
    for (const event of events)
      versions.set(event.entity_id, [...(versions.get(event.entity_id) ?? []), event.version]);
    for (const [entityId, list] of versions) {
      expect({ entityId, versions: list }).toEqual({ entityId, versions: list.map((_, i) => i + 1) });
    }

    // The summaries agree with the log, and the store takes writes again after the crash.
    const stats = await api(second.url, '/api/v1/stats');
    expect(stats.body).toMatchObject({ total_events: events.length, total_entities: versions.size });
    const next = await api(second.url, '/api/v1/events', { json: newEvent(99, 0) });
    expect(next.status).toBe(201);
    expect(next.body.position).toBe(events.length + 1);
  });
});
