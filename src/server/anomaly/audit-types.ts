import type { AuditLog as FullAuditLog } from '../audit/index.js';

/**
 * The audit stream this module reads (issue 6, items 1-4): the records, and the two methods of
 * the log it uses. Narrowed to those two so that tests drive the engine without an audit log.
 */
export type { ActorType, AuditActor, AuditOutcome, AuditRecord } from '../audit/index.js';
export type AuditLog = Pick<FullAuditLog, 'onRecorded' | 'recordSystem'>;
