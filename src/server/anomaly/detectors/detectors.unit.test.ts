import { describe, expect, it } from 'vitest';
import { createMemoryBaselines } from '../baselines.js';
import { DEFAULT_ANOMALY_CONFIG as config } from '../config.js';
import {
  anonymous,
  apiKey,
  DAY,
  denied,
  failedLogin,
  HOUR,
  MINUTE,
  query,
  record,
  T0,
  user,
} from '../testing/records.js';
import type { Detection, Detector } from '../types.js';
import type { AuditRecord } from '../audit-types.js';
import { createBruteForceDetector } from './brute-force.js';
import { createExfiltrationDetector } from './exfiltration.js';
import { createPrivilegeEscalationDetector } from './privilege-escalation.js';
import { createUnusualAccessDetector, utcHour } from './unusual-access.js';
import { createVelocityDetector } from './velocity.js';

const feed = (detector: Detector, records: AuditRecord[]): Detection[] =>
  records.flatMap((r) => detector.observe(r, Date.parse(r.timestamp)));
const last = (detections: Detection[]) => detections.at(-1);

describe('brute force (5+ failed logins in 15 minutes)', () => {
  const attack = (n: number, ip = '203.0.113.7', spacing = 10_000) =>
    Array.from({ length: n }, (_, i) => failedLogin(T0 + i * spacing, ip, 'alice'));

  it('stays silent at four failures', () => {
    expect(feed(createBruteForceDetector(config), attack(4))).toEqual([]);
  });

  it('at five failures from one address: Block the address (0.7) and RequireMFA for the account (0.7)', () => {
    const found = createBruteForceDetector(config);
    const detections = feed(found, attack(5));
    expect(detections.map((d) => [d.subject, d.score, d.action])).toEqual([
      ['address:203.0.113.7', 0.7, 'Block'],
      ['account:alice', 0.7, 'RequireMFA'],
    ]);
    expect(detections[0]!.evidence).toMatchObject({ failed_logins: 5, window_minutes: 15, threshold: 5 });
  });

  it('scores 1.0 from eleven failures on', () => {
    const detections = feed(createBruteForceDetector(config), attack(11));
    expect(detections.filter((d) => d.subject.startsWith('address:')).at(-1)!.score).toBe(1);
  });

  it('counts an account guessed from many addresses, which no address block stops', () => {
    const records = Array.from({ length: 6 }, (_, i) => failedLogin(T0 + i * 1000, `198.51.100.${i + 1}`, 'Bob'));
    const detections = feed(createBruteForceDetector(config), records);
    expect(detections.every((d) => d.subject === 'account:bob')).toBe(true);
    expect(last(detections)).toMatchObject({ action: 'RequireMFA', evidence: { distinct_addresses: 6 } });
  });

  it('a success after five failures is the guess that worked: 0.9, RequireMFA', () => {
    const detector = createBruteForceDetector(config);
    feed(detector, attack(5));
    const success = record(T0 + 60_000, user('u-alice'), 'login', { metadata: { username: 'alice' } });
    expect(detector.observe(success, T0 + 60_000)).toEqual([
      expect.objectContaining({
        score: 0.9,
        action: 'RequireMFA',
        evidence: expect.objectContaining({ kind: 'success_after_failures' }),
      }),
    ]);
  });

  it('forgets failures older than the window', () => {
    // One failure every 4 minutes: never five inside 15 minutes.
    expect(feed(createBruteForceDetector(config), attack(20, '203.0.113.7', 4 * MINUTE))).toEqual([]);
  });
});

describe('privilege escalation', () => {
  it('five ordinary 403s in 15 minutes are an Alert at 0.7; four are nothing', () => {
    const key = apiKey('k-ro', 'readonly');
    const four = Array.from({ length: 4 }, (_, i) => denied(T0 + i * 1000, key, 'write'));
    const detector = createPrivilegeEscalationDetector(config);
    expect(feed(detector, four)).toEqual([]);
    const fifth = detector.observe(denied(T0 + 5000, key, 'write'), T0 + 5000);
    expect(fifth).toEqual([expect.objectContaining({ score: 0.7, action: 'Alert' })]);
  });

  it('probing admin-grade permissions five times revokes the credential (score 1.0)', () => {
    const key = apiKey('k-ro', 'readonly');
    const probes = ['admin', 'manage_keys', 'read_audit', 'decrypt', 'manage_tenants'].map((p, i) =>
      denied(T0 + i * 1000, key, p),
    );
    expect(last(feed(createPrivilegeEscalationDetector(config), probes))).toMatchObject({
      score: 1,
      action: 'RevokeAccess',
      evidence: { refusals: 5, sensitive_refusals: 5 },
    });
  });

  it('cross-tenant attempts weigh like sensitive refusals', () => {
    const actor = user('u-eve', 'developer');
    const tries = Array.from({ length: 4 }, (_, i) =>
      record(T0 + i * 1000, actor, 'cross_tenant_attempt', { outcome: 'failure' }),
    );
    expect(last(feed(createPrivilegeEscalationDetector(config), tries))).toMatchObject({
      action: 'Alert',
      evidence: { cross_tenant_attempts: 4 },
    });
    expect(last(feed(createPrivilegeEscalationDetector(config), tries))!.score).toBeCloseTo(0.84);
  });

  it('a guarded admin operation that succeeded for a role without it is an escalation that worked', () => {
    const detector = createPrivilegeEscalationDetector(config);
    const bypass = record(T0, user('u-dev', 'developer'), 'change_permissions');
    expect(detector.observe(bypass, T0)).toEqual([
      expect.objectContaining({
        score: 1,
        action: 'RevokeAccess',
        evidence: expect.objectContaining({ required_permission: 'admin' }),
      }),
    ]);
    expect(detector.observe(record(T0, user('u-root', 'admin'), 'change_permissions'), T0)).toEqual([]);
  });
});

describe('velocity (people only)', () => {
  const burst = (actor: ReturnType<typeof user>, n: number) =>
    Array.from({ length: n }, (_, i) => record(T0 + i * 100, actor, 'read_event'));

  it('29 actions in 10 s from a person is fine; 30 is an Alert at 0.7; 90 is 1.0 and RequireMFA', () => {
    expect(feed(createVelocityDetector(config), burst(user('u-1'), 29))).toEqual([]);
    const detector = createVelocityDetector(config);
    const detections = feed(detector, burst(user('u-1'), 90));
    expect(detections[0]).toMatchObject({ score: 0.7, action: 'Alert' });
    expect(last(detections)).toMatchObject({ score: 1, action: 'RequireMFA' });
  });

  it('never judges API keys, which are machines', () => {
    const key = apiKey('k-ingest');
    const storm = Array.from({ length: 1000 }, (_, i) => record(T0 + i * 5, key, 'ingest_event'));
    expect(feed(createVelocityDetector(config), storm)).toEqual([]);
  });

  it('skips exempt actors (dev mode’s stand-in user)', () => {
    const detector = createVelocityDetector({ ...config, velocityExempt: ['dev-user'] });
    expect(feed(detector, burst(user('dev-user', 'admin'), 100))).toEqual([]);
  });
});

/** Five working days, 09:00-17:00 UTC, `perHour` reads of `rows` rows each. */
function workWeek(actor: ReturnType<typeof user>, perHour: number, rows: number, days = 5): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let day = 0; day < days; day += 1) {
    for (let hour = 9; hour < 17; hour += 1) {
      for (let i = 0; i < perHour; i += 1) {
        const at = T0 + day * DAY + hour * HOUR + Math.floor((i * HOUR) / perHour);
        records.push(
          i % 5 === 0 ? record(at, actor, 'ingest_event', { metadata: { count: 1 } }) : query(at, actor, rows),
        );
      }
    }
  }
  return records;
}

describe('unusual access (learned hours and actions)', () => {
  it('an established user creating an API key at 03:00 for the first time: 0.8, RequireMFA', () => {
    const detector = createUnusualAccessDetector(config, createMemoryBaselines(100));
    const alice = user('u-alice');
    expect(feed(detector, workWeek(alice, 10, 20)).filter((d) => d.score >= 0.7)).toEqual([]);
    const at = T0 + 5 * DAY + 3 * HOUR;
    const [finding] = detector.observe(record(at, alice, 'api_key_created'), at);
    expect(finding).toMatchObject({
      action: 'RequireMFA',
      evidence: { hour_utc: 3, new_action: 'api_key_created', sensitive: true },
    });
    expect(finding!.score).toBeCloseTo(0.8);
  });

  it('an odd hour alone, or a new sensitive action at a usual hour, stays below the alert', () => {
    const detector = createUnusualAccessDetector(config, createMemoryBaselines(100));
    const alice = user('u-alice');
    feed(detector, workWeek(alice, 10, 20));
    const night = T0 + 5 * DAY + 2 * HOUR;
    expect(detector.observe(query(night, alice, 5), night)[0]!.score).toBeCloseTo(0.5);
    const noon = T0 + 5 * DAY + 12 * HOUR;
    expect(detector.observe(record(noon, alice, 'kms_create_key'), noon)[0]!.score).toBeCloseTo(0.6);
  });

  it('a new actor is never judged, whatever it does', () => {
    const detector = createUnusualAccessDetector(config, createMemoryBaselines(100));
    const at = T0 + 3 * HOUR;
    expect(detector.observe(record(at, user('u-new'), 'api_key_created'), at)).toEqual([]);
  });
});

describe('data exfiltration (5× the actor’s normal query rate)', () => {
  it('judges nothing before 24 active hours of history', () => {
    const detector = createExfiltrationDetector(config, createMemoryBaselines(100));
    const key = apiKey('k-report');
    expect(feed(detector, [query(T0, key, 50_000)])).toEqual([]);
  });

  it('5.5× is an Alert just above 0.7; 25× is 1.0 and RevokeAccess', () => {
    const detector = createExfiltrationDetector(config, createMemoryBaselines(100));
    const key = apiKey('k-report');
    // 40 active hours of 8 queries × 25 rows (and 2 ingests) = 200 rows an hour.
    expect(feed(detector, workWeek(key, 10, 25)).length).toBe(0);
    const at = T0 + 6 * DAY + 10 * HOUR;
    const [alert] = detector.observe(query(at, key, 1100), at);
    expect(alert).toMatchObject({ action: 'Alert', evidence: { normal_rows_per_hour: 200, rows_last_hour: 1100 } });
    expect(alert!.score).toBeCloseTo(0.72, 2);
    const [revoke] = detector.observe(query(at + MINUTE, key, 4000), at + MINUTE);
    expect(revoke).toMatchObject({ score: 1, action: 'RevokeAccess' });
  });

  it('below 1,000 rows an hour is never exfiltration, whatever the ratio', () => {
    const detector = createExfiltrationDetector(config, createMemoryBaselines(100));
    const key = apiKey('k-tiny');
    feed(detector, workWeek(key, 2, 1));
    const at = T0 + 6 * DAY + 10 * HOUR;
    expect(detector.observe(query(at, key, 900), at)).toEqual([]);
  });
});

describe('every detector ignores what it does not judge', () => {
  it('system records, and anonymous actors outside brute force', () => {
    const sys = record(T0, { type: 'system', id: null, ip: null }, 'anomaly_block_ip');
    const anon = record(T0, anonymous('203.0.113.9'), 'read_event');
    for (const detector of [
      createPrivilegeEscalationDetector(config),
      createVelocityDetector(config),
      createUnusualAccessDetector(config, createMemoryBaselines(10)),
      createExfiltrationDetector(config, createMemoryBaselines(10)),
    ]) {
      expect(feed(detector, [sys, anon])).toEqual([]);
    }
  });
});

describe('utcHour', () => {
  it("is Date's getUTCHours, before and after 1970 and at every hour's edges", () => {
    const samples = [0, -1, HOUR - 1, HOUR, -HOUR, -HOUR - 1, DAY - 1, DAY, T0, T0 - 1, 8.64e15];
    for (let hour = 0; hour < 48; hour++) samples.push(T0 + hour * HOUR, T0 + hour * HOUR - 1, T0 + hour * HOUR + 1);
    for (const at of samples) expect(utcHour(at), String(at)).toBe(new Date(at).getUTCHours());
  });
});
