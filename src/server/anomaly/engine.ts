import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../errors/index.js';
import type { IpAddress } from '../protection/index.js';
import type { AuditLog, AuditRecord } from './audit-types.js';
import { createMemoryBaselines, type BaselineStore } from './baselines.js';
import { resolveAnomalyConfig, type AnomalyConfig, type AnomalyConfigInput } from './config.js';
import {
  createBruteForceDetector,
  createExfiltrationDetector,
  createPrivilegeEscalationDetector,
  createUnusualAccessDetector,
  createVelocityDetector,
  type AccessBaseline,
  type ReadBaseline,
} from './detectors/index.js';
import { createEnforcer, type AccessControl } from './enforcement.js';
import { AnomalyConflictError } from './errors.js';
import { listAnomalies, toAnomaly, type AnomalyFilter, type AnomalyPage } from './findings.js';
import { createTemporaryBlocks } from './ip-blocks.js';
import { Lru } from './lru.js';
import { createPersistentBaselines, type PersistentBaselines } from './persistent-baselines.js';
import { prepareAnomalyStatements } from './statements.js';
import {
  actionRank,
  roundScore,
  type Anomaly,
  type Detection,
  type Detector,
  type EnforcementAction,
} from './types.js';
import type { SqliteDatabase } from '../db/index.js';

export interface AnomalyEngineDependencies {
  /** The migrated database (migration 007). */
  db: SqliteDatabase;
  /** Where enforcement records what it did (anomaly_block_ip, anomaly_revoke_access, ...). */
  audit: AuditLog;
  /** Revokes and reinstates credentials (the identity service). */
  access: AccessControl;
  /** Milliseconds since the epoch: finding times, block expiry, the persistence timer's stamps. */
  now: () => number;
  newId?: () => string;
  config?: AnomalyConfigInput;
  /** Told about a detector or listener that threw; the record's request is never failed by one. */
  onError?: (error: unknown) => void;
  /** Baselines in memory only (tests); by default they are persisted to anomaly_baselines. */
  persistBaselines?: boolean;
}

export type AnomalyListener = (anomaly: Anomaly) => void;

/**
 * The anomaly engine: feeds each audit record to the enabled detectors, folds repeated
 * findings, stores those at or above the threshold (anomalies table), pushes them to the
 * tenant's listeners (SSE), and, with enforcement on, applies Block and RevokeAccess.
 *
 * @example
 * const engine = createAnomalyEngine({ db, audit, access: identity, now: Date.now });
 * const stop = audit.onRecorded((record, timestampMs) => engine.observe(record, timestampMs));
 * engine.list('acme', { detector: 'brute_force' }, { limit: 50, offset: 0 });
 */
export function createAnomalyEngine(deps: AnomalyEngineDependencies) {
  const config: AnomalyConfig = resolveAnomalyConfig(deps.config);
  const statements = prepareAnomalyStatements(deps.db);
  const newId = deps.newId ?? randomUUID;
  const onError = deps.onError ?? (() => undefined);
  const blocks = createTemporaryBlocks(statements, deps.now);
  const enforcer = createEnforcer({
    statements,
    blocks,
    access: deps.access,
    audit: deps.audit,
    now: deps.now,
    newId,
    blockMs: config.blockMs,
  });

  const persisted: PersistentBaselines<unknown>[] = [];
  function baselines<S>(detector: string): BaselineStore<S> {
    if (deps.persistBaselines === false) return createMemoryBaselines<S>(config.maxSubjects);
    const store = createPersistentBaselines<S>(statements, detector, config.maxSubjects, deps.now);
    persisted.push(store as PersistentBaselines<unknown>);
    return store;
  }

  const all: Detector[] = [
    createBruteForceDetector(config),
    createUnusualAccessDetector(config, baselines<AccessBaseline>('unusual_access')),
    createPrivilegeEscalationDetector(config),
    createExfiltrationDetector(config, baselines<ReadBaseline>('data_exfiltration')),
    createVelocityDetector(config),
  ];
  const detectors = all.filter((detector) => config.enabled[detector.name]);
  /** Last raised finding per subject: a finding repeats within the cooldown only when its action escalates. */
  const raised = new Lru<string, { at: number; rank: number }>(config.maxSubjects);
  const listeners = new Map<string, Set<AnomalyListener>>();

  const flush = () => {
    for (const store of persisted) store.flush();
  };
  const timer = setInterval(() => {
    try {
      flush();
    } catch (error) {
      onError(error);
    }
  }, config.persistEveryMs);
  timer.unref();

  function folded(record: AuditRecord, detection: Detection, now: number): boolean {
    const key = `${record.tenant_id}\0${detection.detector}\0${detection.subject}`;
    const last = raised.get(key);
    const rank = actionRank(detection.action);
    if (last && now - last.at < config.cooldownMs && rank <= last.rank) return true;
    raised.set(key, { at: now, rank });
    return false;
  }

  function store(record: AuditRecord, detection: Detection): Anomaly {
    const id = newId();
    const createdAt = deps.now();
    const score = roundScore(detection.score);
    statements.insertAnomaly.run(
      id,
      record.tenant_id,
      detection.detector,
      score,
      detection.action,
      JSON.stringify(record.actor),
      JSON.stringify({ ...detection.evidence, subject: detection.subject }),
      record.id,
      createdAt,
    );
    if (config.enforcement) {
      const outcome = enforcer.enforce({
        anomalyId: id,
        tenantId: record.tenant_id,
        action: detection.action,
        actor: record.actor,
      });
      if (outcome) statements.setEnforcement.run(JSON.stringify(outcome), id);
    }
    return toAnomaly(statements.anomalyById.get(id, record.tenant_id)!);
  }

  function notify(anomaly: Anomaly): void {
    for (const listener of listeners.get(anomaly.tenant_id) ?? []) {
      try {
        listener(anomaly);
      } catch (error) {
        onError(error);
      }
    }
  }

  return {
    config,

    /**
     * Judges one audit record (the audit log's onRecorded listener, which passes the record's time
     * as a number; without it the record's timestamp is parsed). Returns the findings it
     * raised: stored, pushed and, with enforcement, acted on. Never throws for a detector's fault.
     */
    observe(record: AuditRecord, timestampMs?: number): Anomaly[] {
      // The engine's own enforcement records, and the system's, describe no one's behaviour.
      if (record.actor.type === 'system') return [];
      const parsed = timestampMs ?? Date.parse(record.timestamp);
      const at = Number.isFinite(parsed) ? parsed : deps.now();
      const found: Anomaly[] = [];
      for (const detector of detectors) {
        let detections: Detection[];
        try {
          detections = detector.observe(record, at);
        } catch (error) {
          onError(error);
          continue;
        }
        for (const detection of detections) {
          if (detection.score < config.threshold || folded(record, detection, at)) continue;
          try {
            const anomaly = store(record, detection);
            found.push(anomaly);
            notify(anomaly);
          } catch (error) {
            onError(error);
          }
        }
      }
      return found;
    },

    list: (tenantId: string, filter: AnomalyFilter, page: { limit: number; offset: number }): AnomalyPage =>
      listAnomalies(statements, tenantId, filter, page),

    get(tenantId: string, id: string): Anomaly {
      const row = statements.anomalyById.get(id, tenantId);
      if (!row) throw new NotFoundError(`anomaly ${JSON.stringify(id)} does not exist`);
      return toAnomaly(row);
    },

    /** Marks a finding reviewed. AnomalyConflictError when it is resolved already. */
    resolve(tenantId: string, id: string, by: string, note: string | null): Anomaly {
      const current = this.get(tenantId, id);
      if (current.status === 'resolved') throw new AnomalyConflictError('this anomaly is resolved already');
      statements.resolve.run(deps.now(), by, note, id, tenantId);
      return this.get(tenantId, id);
    },

    /** New findings of the tenant, as they are raised; returns the unsubscribe function. */
    subscribe(tenantId: string, listener: AnomalyListener): () => void {
      let set = listeners.get(tenantId);
      if (!set) listeners.set(tenantId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(tenantId);
      };
    },

    listActions: (tenantId: string, page: { limit: number; offset: number }) => enforcer.listActions(tenantId, page),
    reverseAction: (tenantId: string, actionId: string, by: string): EnforcementAction =>
      enforcer.reverse(tenantId, actionId, by),

    /** The IP filter's hook: is the address under a live temporary block? */
    isBlocked: (address: IpAddress): boolean => blocks.isBlocked(address),

    /** Writes the learned baselines now (the timer does it every persistEveryMs). */
    flush,
    /** Stops the timer and writes the baselines; call before the database closes. */
    close(): void {
      clearInterval(timer);
      flush();
      listeners.clear();
    },
  };
}

export type AnomalyEngine = ReturnType<typeof createAnomalyEngine>;
