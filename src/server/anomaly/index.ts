/**
 * Anomaly detection over the audit stream (issue 6, item 5; SECURITY.md, Advanced §1): the
 * seed's five detectors, findings with a score, evidence and a recommended action, stored and
 * pushed, and optional enforcement (temporary IP blocks, revoked credentials), audited and
 * reversible. Domain only: no Express. http/routes/anomalies.ts serves it.
 *
 * @example
 * const anomalies = createAnomalyEngine({ db, audit, access: identity, now: Date.now, config: { enforcement: true } });
 * audit.onRecorded((record, timestampMs) => anomalies.observe(record, timestampMs));
 * protection: { temporarilyBlocked: (address) => anomalies.isBlocked(address) }
 */
export { createAnomalyEngine } from './engine.js';
export type { AnomalyEngine, AnomalyEngineDependencies, AnomalyListener } from './engine.js';
export { DEFAULT_ANOMALY_CONFIG, resolveAnomalyConfig } from './config.js';
export type { AnomalyConfig, AnomalyConfigInput } from './config.js';
export type { AnomalyFilter, AnomalyPage } from './findings.js';
export type { AccessControl } from './enforcement.js';
export { AnomalyConflictError } from './errors.js';
export { DETECTORS, RECOMMENDED_ACTIONS } from './types.js';
export type {
  Anomaly,
  Detection,
  Detector,
  DetectorName,
  EnforcementAction,
  EnforcementOutcome,
  RecommendedAction,
} from './types.js';
export type { AuditLog, AuditRecord } from './audit-types.js';
export * from './detectors/index.js';
export { createMemoryBaselines } from './baselines.js';
export type { BaselineStore } from './baselines.js';
