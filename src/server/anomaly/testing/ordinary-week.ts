import type { AuditActor, AuditRecord } from '../audit-types.js';
import { apiKey, DAY, HOUR, MINUTE, record, user } from './records.js';

/** Test support: a synthetic week of ordinary use. Deterministic (seeded), a few thousand records a day. */

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Person {
  actor: AuditActor;
  tenant: string;
  username: string;
  /** Usual start hour (UTC) and length of the working day, in hours. */
  start: number;
  length: number;
  /** Requests an active hour, on average. */
  rate: number;
  /** Evening sessions on some days (the odd late fix). */
  evenings: boolean;
  /** Admins also manage keys, KMS and users, during working hours. */
  admin: boolean;
  readonly: boolean;
}

const PEOPLE: Person[] = [
  {
    actor: user('u-ann', 'admin', '10.0.0.11'),
    tenant: 'acme',
    username: 'ann',
    start: 8,
    length: 9,
    rate: 90,
    evenings: false,
    admin: true,
    readonly: false,
  },
  {
    actor: user('u-bob', 'developer', '10.0.0.12'),
    tenant: 'acme',
    username: 'bob',
    start: 9,
    length: 8,
    rate: 140,
    evenings: true,
    admin: false,
    readonly: false,
  },
  {
    actor: user('u-cid', 'developer', '10.0.0.13'),
    tenant: 'acme',
    username: 'cid',
    start: 10,
    length: 8,
    rate: 110,
    evenings: false,
    admin: false,
    readonly: false,
  },
  {
    actor: user('u-dee', 'readonly', '10.0.0.14'),
    tenant: 'acme',
    username: 'dee',
    start: 7,
    length: 8,
    rate: 60,
    evenings: false,
    admin: false,
    readonly: true,
  },
  // Works from another timezone: her day is 01:00-09:00 UTC.
  {
    actor: user('u-eli', 'developer', '10.2.0.5'),
    tenant: 'globex',
    username: 'eli',
    start: 1,
    length: 8,
    rate: 120,
    evenings: true,
    admin: false,
    readonly: false,
  },
  {
    actor: user('u-fay', 'admin', '10.2.0.6'),
    tenant: 'globex',
    username: 'fay',
    start: 14,
    length: 8,
    rate: 70,
    evenings: false,
    admin: true,
    readonly: false,
  },
];

const READS = ['query_events', 'query_events', 'query_events', 'read_event', 'read_entity_state', 'subscribe'];
const ADMIN_ACTIONS = ['api_key_created', 'kms_encrypt', 'kms_rotate_key', 'change_permissions', 'query_audit'];

/** The records of one week, in time order, starting at `start` (a Monday 00:00 UTC). */
export function ordinaryWeek(start: number, seed = 42): AuditRecord[] {
  const random = mulberry32(seed);
  const between = (low: number, high: number) => low + random() * (high - low);
  const out: AuditRecord[] = [];
  const push = (at: number, tenant: string, actor: AuditActor, action: string, more: Partial<AuditRecord> = {}) =>
    out.push(record(Math.floor(at), actor, action, { tenant_id: tenant, ...more }));

  for (let day = 0; day < 7; day += 1) {
    const dayStart = start + day * DAY;
    const weekend = day >= 5;
    for (const person of PEOPLE) {
      const sessions: Array<[number, number]> = [];
      if (!weekend) {
        const begin = dayStart + (person.start + between(-0.75, 0.75)) * HOUR;
        const lunch = begin + between(3.5, 4.5) * HOUR;
        sessions.push(
          [begin, lunch],
          [lunch + between(0.5, 1) * HOUR, begin + (person.length + between(-0.5, 0.75)) * HOUR],
        );
        if (person.evenings && random() < 0.3) {
          const evening = begin + (person.length + between(2.5, 4)) * HOUR;
          sessions.push([evening, evening + between(0.3, 1) * HOUR]);
        }
      } else if (random() < 0.25) {
        // A quick weekend look, inside the usual hours.
        const look = dayStart + (person.start + between(1, 4)) * HOUR;
        sessions.push([look, look + between(0.2, 0.5) * HOUR]);
      }
      for (const [from, to] of sessions) {
        // Signing in: now and then a mistyped password first.
        if (random() < 0.08) {
          push(from - 20_000, person.tenant, { ...person.actor, type: 'anonymous', id: null }, 'login', {
            outcome: 'failure',
            metadata: { username: person.username },
          });
        }
        push(from, person.tenant, person.actor, 'login', { metadata: { username: person.username } });
        let at = from + between(5, 60) * 1000;
        while (at < to) {
          // A page of the admin UI fires a burst of 1-8 requests within a second.
          const burst = 1 + Math.floor(random() * 8);
          for (let i = 0; i < burst; i += 1) {
            const when = at + i * between(20, 120);
            const roll = random();
            if (person.admin && roll < 0.01) {
              push(when, person.tenant, person.actor, ADMIN_ACTIONS[Math.floor(random() * ADMIN_ACTIONS.length)]!);
            } else if (person.readonly && roll < 0.004) {
              push(when, person.tenant, person.actor, 'permission_denied', {
                outcome: 'failure',
                metadata: { required_permission: 'write' },
              });
            } else if (!person.readonly && roll < 0.15) {
              push(when, person.tenant, person.actor, 'ingest_event', {
                metadata: { count: 1 + Math.floor(random() * 3) },
              });
            } else {
              const action = READS[Math.floor(random() * READS.length)]!;
              const count = action === 'query_events' ? Math.floor(Math.exp(between(0, 5))) : undefined;
              push(when, person.tenant, person.actor, action, count === undefined ? {} : { metadata: { count } });
            }
          }
          at += (burst * HOUR) / person.rate + between(-10, 10) * 1000;
        }
        push(to, person.tenant, person.actor, 'logout');
      }
    }

    // Machines. An ingest service, all day every day: one request every 30-90 s.
    const ingest = apiKey('k-ingest', 'serviceaccount', '10.1.0.2');
    for (let at = dayStart + between(0, 60_000); at < dayStart + DAY; at += between(30_000, 90_000)) {
      push(at, 'acme', ingest, 'ingest_event', { metadata: { count: 1 + Math.floor(random() * 50) } });
    }
    // A reporting key: a 500-row query every 10 minutes, and a nightly report of 5,000 rows at 02:00.
    const reports = apiKey('k-reports', 'readonly', '10.1.0.3');
    for (let at = dayStart + 3 * MINUTE; at < dayStart + DAY; at += 10 * MINUTE) {
      push(at + between(0, 20_000), 'acme', reports, 'query_events', {
        metadata: { count: Math.floor(between(350, 650)) },
      });
    }
    push(dayStart + 2 * HOUR + 5 * MINUTE, 'acme', reports, 'query_events', { metadata: { count: 5000 } });
    // An ETL key: at :05 every hour, 40-60 batch requests inside a minute (a machine's speed).
    const etl = apiKey('k-etl', 'serviceaccount', '10.1.0.4');
    for (let hour = 0; hour < 24; hour += 1) {
      const n = 40 + Math.floor(random() * 20);
      for (let i = 0; i < n; i += 1) {
        push(dayStart + hour * HOUR + 5 * MINUTE + i * between(200, 1200), 'globex', etl, 'ingest_event', {
          metadata: { count: 100 },
        });
      }
    }
    // CI, weekdays during the day: test runs of 100-200 quick requests, a few times a day.
    if (!weekend) {
      const ci = apiKey('k-ci', 'developer', '10.1.0.5');
      for (let run = 0; run < 6; run += 1) {
        const begin = dayStart + between(8, 19) * HOUR;
        const n = 100 + Math.floor(random() * 100);
        for (let i = 0; i < n; i += 1) {
          const action = i % 3 === 0 ? 'query_events' : 'ingest_event';
          push(begin + i * between(50, 400), 'acme', ci, action, { metadata: { count: Math.floor(between(1, 40)) } });
        }
      }
    }
  }
  return out.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}
