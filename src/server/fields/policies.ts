import type { SqliteDatabase } from '../db/index.js';
import { InvalidRequestError, NotFoundError } from '../errors/index.js';
import { eventTypeProblem } from '../store/index.js';
import { checkPolicyFields, parsePointer } from './pointers.js';

/** The fields of one event type that are encrypted at ingest. */
export interface EncryptionPolicy {
  event_type: string;
  fields: string[];
  updated_at: string;
}

/** A policy as the sealer uses it: each pointer with its parsed tokens. */
export interface CompiledPolicy {
  fields: { pointer: string; tokens: string[] }[];
  /** JSON.stringify of every pointer, for events that hold all of them (the usual case). */
  pointersJson: string;
  /** pointersJson as UTF-8, as the sealed record stores it. */
  pointersBytes: Buffer;
}

export interface PolicyStore {
  /** Undefined when the type has no policy (most types): the ingest fast path. */
  compiled(tenantId: string, eventType: string): CompiledPolicy | undefined;
  get(tenantId: string, eventType: string): EncryptionPolicy;
  list(tenantId: string): EncryptionPolicy[];
  put(tenantId: string, eventType: string, fields: unknown): { policy: EncryptionPolicy; created: boolean };
  remove(tenantId: string, eventType: string): void;
}

interface PolicyRow {
  event_type: string;
  fields: string;
  updated_at: number;
}

export function checkPolicyEventType(eventType: string): string {
  const problem = eventTypeProblem(eventType);
  if (problem) throw new InvalidRequestError(`event_type ${problem}`, [{ path: 'event_type', problem }]);
  return eventType;
}

function toPolicy(row: PolicyRow): EncryptionPolicy {
  return {
    event_type: row.event_type,
    fields: JSON.parse(row.fields) as string[],
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/**
 * Policies live in SQLite and, compiled, in memory: every ingest asks for its type's policy, so
 * the answer (usually "none") must cost a Map lookup. Only this object writes the table, so the
 * cache is kept exact by updating it on every write.
 */
/**
 * `onPolicy` is told whenever a policy exists: once at start when there are any, and after each
 * put (field crypto gets its seal worker ready before the first large append needs it).
 */
export function createPolicyStore(db: SqliteDatabase, now: () => number, onPolicy?: () => void): PolicyStore {
  const st = {
    one: db.prepare<[string, string], PolicyRow>(
      'SELECT event_type, fields, updated_at FROM encryption_policies WHERE tenant_id = ? AND event_type = ?',
    ),
    all: db.prepare<[string], PolicyRow>(
      'SELECT event_type, fields, updated_at FROM encryption_policies WHERE tenant_id = ? ORDER BY event_type',
    ),
    allTenants: db.prepare<[], PolicyRow & { tenant_id: string }>(
      'SELECT tenant_id, event_type, fields, updated_at FROM encryption_policies',
    ),
    upsert: db.prepare<[string, string, string, number]>(
      `INSERT INTO encryption_policies (tenant_id, event_type, fields, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id, event_type) DO UPDATE SET fields = excluded.fields, updated_at = excluded.updated_at`,
    ),
    remove: db.prepare<[string, string]>('DELETE FROM encryption_policies WHERE tenant_id = ? AND event_type = ?'),
  };
  const compiledByTenant = new Map<string, Map<string, CompiledPolicy>>();
  const compile = (fields: string[]): CompiledPolicy => {
    const pointersJson = JSON.stringify(fields);
    return {
      fields: fields.map((pointer) => ({ pointer, tokens: parsePointer(pointer) as string[] })),
      pointersJson,
      pointersBytes: Buffer.from(pointersJson, 'utf8'),
    };
  };
  for (const row of st.allTenants.all()) {
    const forTenant = compiledByTenant.get(row.tenant_id) ?? new Map<string, CompiledPolicy>();
    forTenant.set(row.event_type, compile(JSON.parse(row.fields) as string[]));
    compiledByTenant.set(row.tenant_id, forTenant);
  }
  if (compiledByTenant.size > 0) onPolicy?.();

  return {
    compiled: (tenantId, eventType) => compiledByTenant.get(tenantId)?.get(eventType),

    get(tenantId, eventType) {
      const row = st.one.get(tenantId, checkPolicyEventType(eventType));
      if (!row) throw new NotFoundError(`event type ${JSON.stringify(eventType)} has no encryption policy`);
      return toPolicy(row);
    },

    list: (tenantId) => st.all.all(tenantId).map(toPolicy),

    put(tenantId, eventType, fields) {
      checkPolicyEventType(eventType);
      const checked = checkPolicyFields(fields);
      const created = st.one.get(tenantId, eventType) === undefined;
      st.upsert.run(tenantId, eventType, JSON.stringify(checked), now());
      const forTenant = compiledByTenant.get(tenantId) ?? new Map<string, CompiledPolicy>();
      forTenant.set(eventType, compile(checked));
      compiledByTenant.set(tenantId, forTenant);
      onPolicy?.();
      return { policy: toPolicy(st.one.get(tenantId, eventType)!), created };
    },

    remove(tenantId, eventType) {
      checkPolicyEventType(eventType);
      if (st.remove.run(tenantId, eventType).changes === 0) {
        throw new NotFoundError(`event type ${JSON.stringify(eventType)} has no encryption policy`);
      }
      compiledByTenant.get(tenantId)?.delete(eventType);
    },
  };
}
