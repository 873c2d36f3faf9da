/** A stream's id and its committed version. */
export interface StreamState {
  streamId: number;
  version: number;
}

/**
 * Committed stream versions kept in memory, so that an append to a known entity skips a
 * SELECT. It only ever holds committed state: an append forgets the entry while its write is
 * in flight (so other jobs of the same transaction read the database) and remembers the new
 * version once the commit is durable. Bounded; the oldest entries go first.
 */
export interface StreamCache {
  get(tenantId: string, entityId: string): StreamState | undefined;
  forget(tenantId: string, entityId: string): void;
  remember(tenantId: string, entityId: string, state: StreamState): void;
}

export function createStreamCache(maxEntries: number): StreamCache {
  const entries = new Map<string, StreamState>();
  const keyOf = (tenantId: string, entityId: string) => `${tenantId}\u0000${entityId}`;
  return {
    get: (tenantId, entityId) => entries.get(keyOf(tenantId, entityId)),
    forget: (tenantId, entityId) => void entries.delete(keyOf(tenantId, entityId)),
    remember(tenantId, entityId, state) {
      const key = keyOf(tenantId, entityId);
      entries.delete(key);
      entries.set(key, { streamId: state.streamId, version: state.version });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
