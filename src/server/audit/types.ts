/**
 * The audit trail's public contract (issue 6; DESIGN.md, "KMS, protection, audit"). Domain only:
 * no Express. The HTTP layer builds an AuditContext per request and records one entry per request.
 */

export type AuditOutcome = 'success' | 'failure' | 'partial_success';
export type ActorType = 'user' | 'api_key' | 'system' | 'anonymous';

export interface AuditActor {
  type: ActorType;
  /** user id or API key id; null for system/anonymous */
  id: string | null;
  /** username or key name when known */
  name?: string;
  role?: string;
  /** client address (after trusted-proxy handling), null for system */
  ip: string | null;
}

export interface AuditRecord {
  id: string; // UUIDv7
  seq: number; // per-tenant sequence, 1, 2, 3, ...
  tenant_id: string; // anonymous failures (login of an unknown user) go to the platform tenant 'default'
  timestamp: string; // ISO UTC
  action: string; // snake_case
  actor: AuditActor;
  outcome: AuditOutcome;
  resource: string | null;
  request_id: string | null;
  metadata: Record<string, unknown>; // never secrets
}

/** A stored record with its place in the chain (what verify and export see). */
export interface ChainedRecord extends AuditRecord {
  prev_hash: string;
  hash: string;
}

/** Who acts, for which tenant, in which request: everything a record takes from its request. */
export interface AuditContext {
  tenantId: string;
  actor: AuditActor;
  requestId: string | null;
}

/** What happened: the part of a record the action itself supplies. */
export interface AuditEntry {
  action: string;
  outcome: AuditOutcome;
  resource?: string | null;
  metadata?: Record<string, unknown>;
}

/** Filters of GET /api/v1/audit/events and /export; times are Unix milliseconds. */
export interface AuditFilter {
  action?: string;
  outcome?: AuditOutcome;
  /** Matches the actor's id or name. */
  actor?: string;
  since?: number;
  until?: number;
}

export interface AuditPage {
  events: AuditRecord[];
  total: number;
  has_more: boolean;
}

export interface VerifyResult {
  valid: boolean;
  /** Records read from the chain. */
  checked: number;
  /** Signed checkpoints (database and file) that were compared with the chain. */
  checkpoints_checked: number;
  /** The sequence number of the first record that does not check out (a missing one included). */
  first_bad?: number;
  /** Why, in words, when not valid. */
  reason?: string;
}

/** A signed statement that the tenant's chain had this head at this time. */
export interface Checkpoint {
  tenant_id: string;
  seq: number;
  head_hash: string;
  created_at: string;
  key_id: string;
  /** Ed25519 over checkpointMessage(), base64. */
  signature: string;
}

/**
 * One audited write inside someone else's transaction (the group committer's append job, an
 * identity write after argon2): `write` inserts (it may run more than once, a group commit may
 * retry a job), `committed` tells listeners once the transaction is durable.
 */
export interface AuditJob<T = void> {
  write(result: T): void;
  committed(): void;
}

export interface AuditLog {
  /** False when started with ALLSOURCE_AUDIT=off (the bench's comparison only): nothing is recorded. */
  readonly enabled: boolean;
  /**
   * Called after the record is durable (committed), with its time in Unix milliseconds (what
   * `record.timestamp` says, unparsed); listeners must not throw (errors are logged).
   */
  onRecorded(listener: (record: AuditRecord, timestampMs: number) => void): () => void;
  /** Records a system-originated event (e.g. anomaly enforcement), in its own transaction; throws if it cannot be written. */
  recordSystem(entry: {
    tenantId: string;
    action: string;
    outcome: AuditOutcome;
    resource?: string | null;
    metadata?: Record<string, unknown>;
  }): AuditRecord;
  /** Records one entry in its own transaction; throws AuditWriteError if it cannot be written. */
  record(context: AuditContext, entry: AuditEntry): AuditRecord | undefined;
  /**
   * Runs `action` and inserts the record in one transaction: both commit or neither does. With
   * an entry object the record is inserted first (so in-memory effects of `action` never follow
   * a failed insert); with a function of the result, after `action`.
   */
  within<T>(context: AuditContext, entry: AuditEntry | ((result: T) => AuditEntry), action: () => T): T;
  /** A record to be written inside a transaction the caller runs (see AuditJob). */
  job<T>(context: AuditContext, entry: (result: T) => AuditEntry): AuditJob<T>;
  query(tenantId: string, filter: AuditFilter, page: { limit: number; offset: number }): AuditPage;
  /** Up to `limit` records after `afterSeq`, oldest first, for streaming an export page by page. */
  exportPage(tenantId: string, filter: AuditFilter, afterSeq: number, limit: number): ChainedRecord[];
  verify(tenantId: string): Promise<VerifyResult>;
  checkpoints(tenantId: string, page: { limit: number; offset: number }): { checkpoints: Checkpoint[]; total: number };
  /** The public half of the signing key, so a checkpoint file can be checked elsewhere. */
  publicKeys(): { key_id: string; public_key: string }[];
  /** Signs a checkpoint for every tenant whose chain grew since its last one. */
  checkpointNow(): void;
  /** Stops the checkpoint timer and writes the last checkpoints. */
  close(): void;
}
