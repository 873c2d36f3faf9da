export { createAuditLog } from './audit-log.js';
export type { AuditDependencies, AuditSettings } from './audit-log.js';
export { canonicalRecord, chainHash, checkpointMessage, GENESIS_HASH } from './chain.js';
export { AuditUnavailableError } from './errors.js';
export { AuditKeyError } from './signer.js';
export { csvRow, AUDIT_CSV_COLUMNS } from './csv.js';
export type * from './types.js';
