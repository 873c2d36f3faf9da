import { NotFoundError } from '../errors/index.js';
import type { IdentityContext } from './context.js';

/**
 * Revocations that can be undone: what automated enforcement (anomaly detection, issue 6) needs,
 * beside the admin's plain revokeApiKey. A key revoked here remembers the exact time of its
 * revocation, and only that revocation can be reinstated: a later revocation by an admin, or a
 * key revoked by hand, is never brought back by reversing an automated one.
 */
export function createAccessRevocation(ctx: IdentityContext) {
  const keyOf = ctx.db.prepare<[string], { tenant_id: string; revoked_at: number | null }>(
    'SELECT tenant_id, revoked_at FROM api_keys WHERE id = ?',
  );
  const reinstate = ctx.db.prepare<[string, number]>(
    'UPDATE api_keys SET revoked_at = NULL WHERE id = ? AND revoked_at = ?',
  );
  const endSessions = ctx.db.prepare<[number, string]>('UPDATE users SET password_changed_at = ? WHERE id = ?');

  function ownKey(tenantId: string, keyId: string) {
    const row = typeof keyId === 'string' ? keyOf.get(keyId) : undefined;
    if (!row || row.tenant_id !== tenantId) throw new NotFoundError('API key not found');
    return row;
  }

  return {
    /** Revokes the key and returns the revocation time, or undefined when it was revoked already. */
    revokeApiKeyReversibly(tenantId: string, keyId: string): number | undefined {
      if (ownKey(tenantId, keyId).revoked_at !== null) return undefined;
      const at = ctx.now();
      ctx.statements.revokeKey.run(at, keyId);
      ctx.keyCache.dropKey(keyId);
      return at;
    },
    /** Undoes the revocation made at `revokedAt`; false when the key is live or was revoked another time. */
    reinstateApiKey(tenantId: string, keyId: string, revokedAt: number): boolean {
      ownKey(tenantId, keyId);
      return reinstate.run(keyId, revokedAt).changes === 1;
    },
    /**
     * Ends every token the user holds, as a password change does (tokens issued before
     * password_changed_at are refused), without changing the password: the user signs in again.
     */
    endSessions(tenantId: string, userId: string): void {
      const row = ctx.statements.userById.get(userId);
      if (!row || row.tenant_id !== tenantId) throw new NotFoundError('user not found');
      endSessions.run(ctx.tokenClock.changeAt(row.password_changed_at), row.id);
      ctx.directory.forgetUser(row.id);
    },
  };
}

export type AccessRevocation = ReturnType<typeof createAccessRevocation>;
