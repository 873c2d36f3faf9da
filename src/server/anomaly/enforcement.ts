import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../errors/index.js';
import type { AuditActor, AuditLog } from './audit-types.js';
import { AnomalyConflictError } from './errors.js';
import { canonicalAddress, isLoopback, type TemporaryBlocks } from './ip-blocks.js';
import { parseIp } from '../protection/index.js';
import type { ActionRow, AnomalyStatements } from './statements.js';
import type { EnforcementAction, EnforcementKind, EnforcementOutcome, RecommendedAction } from './types.js';

/** What enforcement needs from identity (IdentityService satisfies it). */
export interface AccessControl {
  revokeApiKeyReversibly(tenantId: string, keyId: string): number | undefined;
  reinstateApiKey(tenantId: string, keyId: string, revokedAt: number): boolean;
  endSessions(tenantId: string, userId: string): void;
}

export interface EnforcerDependencies {
  statements: AnomalyStatements;
  blocks: TemporaryBlocks;
  access: AccessControl;
  audit: AuditLog;
  now: () => number;
  newId?: () => string;
  blockMs: number;
}

interface Target {
  anomalyId: string;
  tenantId: string;
  action: RecommendedAction;
  actor: AuditActor;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toEnforcementAction(row: ActionRow, now: number): EnforcementAction {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    anomaly_id: row.anomaly_id,
    kind: row.kind,
    target: row.target,
    created_at: new Date(row.created_at).toISOString(),
    expires_at: iso(row.expires_at),
    reversed_at: iso(row.reversed_at),
    reversed_by: row.reversed_by,
    active: row.reversed_at === null && (row.expires_at === null || row.expires_at > now),
  };
}

/**
 * Acts on Block and RevokeAccess (only when enforcement is switched on; the engine decides).
 * Each step, its row in anomaly_actions and its audit record commit in one transaction: if the
 * audit record cannot be written the step does not happen (fail closed, as every audited action).
 *
 * Block on a loopback address is never applied: on a loopback server every client, the admin's
 * browser included, is 127.0.0.1, so blocking it would shut everyone out of their own machine.
 * It falls back to revoking the acting credential when there is one (a failed login has none:
 * then the finding stands as an alert, and the rate limiter's per-address budget of failed
 * credentials is what slows the guessing).
 */
export function createEnforcer(deps: EnforcerDependencies) {
  const { statements, audit, access } = deps;
  const newId = deps.newId ?? randomUUID;

  const record = (tenantId: string, action: string, resource: string, metadata: Record<string, unknown>) =>
    audit.recordSystem({ tenantId, action, outcome: 'success', resource, metadata });

  function insertAction(target: Target, kind: EnforcementKind, subject: string, at: number, expiresAt: number | null) {
    const id = newId();
    statements.insertAction.run(id, target.tenantId, target.anomalyId, kind, subject, at, expiresAt);
    return id;
  }

  function block(target: Target, address: string): EnforcementOutcome {
    const at = deps.now();
    const expiresAt = at + deps.blockMs;
    const live = statements.liveBlocks.all(at).some((row) => row.target === address);
    if (live) return { status: 'skipped', reason: `${address} is blocked already` };
    const id = statements.db.transaction(() => {
      const actionId = insertAction(target, 'block_ip', address, at, expiresAt);
      record(target.tenantId, 'anomaly_block_ip', address, {
        anomaly_id: target.anomalyId,
        action_id: actionId,
        expires_at: new Date(expiresAt).toISOString(),
      });
      return actionId;
    })();
    deps.blocks.add(address, expiresAt);
    return { status: 'applied', action_id: id, kind: 'block_ip', target: address, expires_at: iso(expiresAt) };
  }

  function revoke(target: Target): EnforcementOutcome {
    const { actor, tenantId } = target;
    if (actor.id === null || (actor.type !== 'api_key' && actor.type !== 'user')) {
      return { status: 'skipped', reason: `a ${actor.type} actor has no credential to revoke` };
    }
    const actorId = actor.id;
    const kind: EnforcementKind = actor.type === 'api_key' ? 'revoke_api_key' : 'revoke_sessions';
    const at = deps.now();
    try {
      const id = statements.db.transaction(() => {
        let revokedAt = at;
        if (kind === 'revoke_api_key') {
          const when = access.revokeApiKeyReversibly(tenantId, actorId);
          if (when === undefined) return undefined;
          revokedAt = when;
        } else {
          access.endSessions(tenantId, actorId);
        }
        // The revocation time is what reinstating checks, so it is the action's time.
        const actionId = insertAction(target, kind, actorId, revokedAt, null);
        record(tenantId, 'anomaly_revoke_access', actorId, {
          anomaly_id: target.anomalyId,
          action_id: actionId,
          kind,
          actor_type: actor.type,
        });
        return actionId;
      })();
      if (id === undefined) return { status: 'skipped', reason: 'the API key is revoked already' };
      return { status: 'applied', action_id: id, kind, target: actorId, expires_at: null };
    } catch (error) {
      // A key or user deleted meanwhile (or dev mode's stand-in user, which is no account).
      if (error instanceof NotFoundError) return { status: 'skipped', reason: 'the credential no longer exists' };
      throw error;
    }
  }

  return {
    /** Applies the finding's recommended action when it is Block or RevokeAccess; undefined for the others. */
    enforce(target: Target): EnforcementOutcome | undefined {
      if (target.action === 'RevokeAccess') return revoke(target);
      if (target.action !== 'Block') return undefined;
      const address = target.actor.ip === null ? undefined : canonicalAddress(target.actor.ip);
      if (address !== undefined && !isLoopback(parseIp(address)!)) return block(target, address);
      const fallback = revoke(target);
      const why = address === undefined ? 'no client address' : `${address} is a loopback address`;
      return fallback.status === 'applied'
        ? fallback
        : { status: 'skipped', reason: `${why}, never blocked; and ${fallback.reason}` };
    },

    listActions(tenantId: string, page: { limit: number; offset: number }) {
      const now = deps.now();
      const rows = statements.actionsOfTenant.all(tenantId, page.limit, page.offset);
      const total = statements.countActions.get(tenantId)!.n;
      return {
        actions: rows.map((row) => toEnforcementAction(row, now)),
        total,
        has_more: page.offset + rows.length < total,
      };
    },

    /**
     * Undoes an enforcement step: lifts the IP block, reinstates the API key (only if this step's
     * revocation is still the key's), or, for ended sessions, only records it (the user signs in
     * again; nothing was taken away but the tokens). NotFoundError outside the tenant,
     * AnomalyConflictError when reversed already.
     */
    reverse(tenantId: string, actionId: string, by: string): EnforcementAction {
      const row = statements.actionById.get(actionId, tenantId);
      if (!row) throw new NotFoundError(`enforcement action ${JSON.stringify(actionId)} does not exist`);
      if (row.reversed_at !== null) throw new AnomalyConflictError('this enforcement action is reversed already');
      const at = deps.now();
      let restored = false;
      statements.db.transaction(() => {
        statements.reverseAction.run(at, by, row.id, tenantId);
        if (row.kind === 'revoke_api_key') restored = access.reinstateApiKey(tenantId, row.target, row.created_at);
        record(tenantId, row.kind === 'block_ip' ? 'anomaly_unblock_ip' : 'anomaly_restore_access', row.target, {
          action_id: row.id,
          anomaly_id: row.anomaly_id,
          kind: row.kind,
          by,
          ...(row.kind === 'revoke_api_key' ? { key_reinstated: restored } : {}),
        });
      })();
      if (row.kind === 'block_ip') deps.blocks.remove(row.target);
      return toEnforcementAction(statements.actionById.get(row.id, tenantId)!, at);
    },
  };
}

export type Enforcer = ReturnType<typeof createEnforcer>;
