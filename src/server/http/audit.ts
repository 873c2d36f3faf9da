import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import {
  AuditUnavailableError,
  type AuditActor,
  type AuditContext,
  type AuditEntry,
  type AuditLog,
  type AuditOutcome,
} from '../audit/index.js';
import { DomainError } from '../errors/index.js';
import { PLATFORM_TENANT, type Principal, type WriteHook } from '../identity/index.js';
import type { AppendAudit, AppendSummary } from '../store/index.js';
import { protectionLocals } from './protection/locals.js';

/**
 * The HTTP side of the audit trail (README, "Audit"): every request under /api/v1 that gets past
 * authentication leaves exactly one record, written before its answer is sent, in the same
 * transaction as whatever it changed. A route names its action with `audited(...)`; its handler
 * records success through `recordNow`, `auditedWrite`, `auditedAsync` or `appendAudit`; a
 * thrown error is recorded as a failure by `auditFailures`. If the record cannot be written the
 * request fails (AuditUnavailableError, 503) and nothing it did stands.
 */

/** Set on `app.locals` by createHttpApp, so that shared middleware (authorization) can record. */
export interface AuditAppLocals {
  audit?: AuditLog;
}

interface PendingAudit {
  action: string;
  resource: string | null;
  /** Known before the outcome (the username of a login): kept for the failure record too. */
  metadata: Record<string, unknown>;
  /** Public routes record failures of anonymous callers (login); the others only of signed-in ones. */
  anonymous: boolean;
  recorded: boolean;
}

interface AuditResponseLocals {
  principal?: Principal;
  tenantId?: string;
  auditPending?: PendingAudit;
}

const responseLocals = (res: Response) => res.locals as AuditResponseLocals;

export function auditLogOf(req: Request): AuditLog {
  const audit = (req.app.locals as AuditAppLocals).audit;
  if (!audit) throw new AuditUnavailableError();
  return audit;
}

export function actorOf(req: Request, res: Response, principal = responseLocals(res).principal): AuditActor {
  return principalActor(principal, protectionLocals(res).clientIp ?? req.socket.remoteAddress ?? null);
}

/** The actor a principal (or, without one, an anonymous caller at `ip`) is recorded as. */
export function principalActor(principal: Principal | undefined, ip: string | null): AuditActor {
  if (!principal) return { type: 'anonymous', id: null, ip };
  return {
    type: principal.kind === 'api_key' ? 'api_key' : 'user',
    id: principal.subject,
    name: principal.name,
    role: principal.role,
    ip,
  };
}

/** Anonymous callers (a failed login) are recorded in the platform tenant's trail. */
export function contextOf(req: Request, res: Response, principal = responseLocals(res).principal): AuditContext {
  return {
    tenantId: principal?.tenantId ?? responseLocals(res).tenantId ?? PLATFORM_TENANT,
    actor: actorOf(req, res, principal),
    requestId: protectionLocals(res).requestId ?? null,
  };
}

const paramsOf = (req: Request): Record<string, string> => req.params as Record<string, string>;

/**
 * Names the route's action. `resource` defaults to the first route parameter (a key name, a
 * user id, …). `anonymous` routes (login, first-run register) also record callers without a credential.
 */
export function audited(
  action: string,
  options: { resource?: (req: Request) => string | null; anonymous?: boolean } = {},
): RequestHandler {
  return function declareAuditAction(req, res, next) {
    const params = Object.values(paramsOf(req));
    responseLocals(res).auditPending = {
      action,
      resource: options.resource ? options.resource(req) : (params[0] ?? null),
      metadata: {},
      anonymous: options.anonymous ?? false,
      recorded: false,
    };
    next();
  };
}

function pendingOf(res: Response): PendingAudit {
  const pending = responseLocals(res).auditPending;
  // A programming error: a handler records for a route that named no action.
  if (!pending) throw new Error('this route records an audit entry but declared no action (audited(...))');
  return pending;
}

/** Metadata known early, kept for whichever record the request ends with. */
export function noteAudit(res: Response, metadata: Record<string, unknown>): void {
  Object.assign(pendingOf(res).metadata, metadata);
}

interface Outcome {
  outcome?: AuditOutcome;
  resource?: string | null;
  metadata?: Record<string, unknown>;
}

const isEmpty = (object: Record<string, unknown>): boolean => {
  for (const _ in object) return false;
  return true;
};

/*
 * Object.assign rather than spreads on this path (it runs for every audited request): V8 builds
 * `{ ...a, b, c }` through a slow path, 1.2 µs against 70 ns, and the object it makes is slower
 * to serialise as well (measured, Node 20).
 */

function entryOf(pending: PendingAudit, outcome: Outcome = {}): AuditEntry {
  // Most routes note nothing early: the outcome's metadata is then the whole of it, uncopied.
  const early = pending.metadata;
  const late = outcome.metadata;
  return {
    action: pending.action,
    outcome: outcome.outcome ?? 'success',
    resource: outcome.resource === undefined ? pending.resource : outcome.resource,
    metadata: late === undefined ? Object.assign({}, early) : isEmpty(early) ? late : Object.assign({}, early, late),
  };
}

/** Records the route's action now (reads: before the answer is sent). */
export function recordNow(req: Request, res: Response, outcome: Outcome = {}, principal?: Principal): void {
  const pending = pendingOf(res);
  auditLogOf(req).record(contextOf(req, res, principal), entryOf(pending, outcome));
  pending.recorded = true;
}

/** A synchronous write and its record, in one transaction (see AuditLog.within). */
export function auditedWrite<T>(req: Request, res: Response, action: () => T, outcome?: (result: T) => Outcome): T {
  const pending = pendingOf(res);
  const entry = outcome ? (result: T) => entryOf(pending, outcome(result)) : entryOf(pending);
  const result = auditLogOf(req).within(contextOf(req, res), entry, action);
  pending.recorded = true;
  return result;
}

/** A write that awaits first (argon2): the domain runs the hook inside its own write transaction. */
export async function auditedAsync<T>(
  req: Request,
  res: Response,
  action: (within: WriteHook<T>) => Promise<T>,
  outcome?: (result: T) => Outcome,
): Promise<T> {
  const pending = pendingOf(res);
  const job = auditLogOf(req).job<T>(contextOf(req, res), (result) => entryOf(pending, outcome?.(result)));
  const result = await action((value) => job.write(value));
  job.committed();
  pending.recorded = true;
  return result;
}

/** The store's audit port for an append: the record goes into the append's own transaction. */
export function appendAudit(req: Request, res: Response, metadata: Record<string, unknown> = {}): AppendAudit {
  const pending = pendingOf(res);
  const job = auditLogOf(req).job<AppendSummary>(contextOf(req, res), (summary) =>
    entryOf(pending, {
      metadata: Object.assign({}, metadata, {
        count: summary.count,
        ingested: summary.ingested,
        event_types: summary.eventTypes.slice(0, 50),
      }),
    }),
  );
  return {
    write: (summary) => job.write(summary),
    committed() {
      job.committed();
      pending.recorded = true;
    },
  };
}

/**
 * Records a refusal that middleware answers itself (permission_denied, cross_tenant_attempt).
 * Returns false when the record could not be written: the caller then fails the request.
 */
export function recordRefusal(
  req: Request,
  res: Response,
  action: string,
  metadata: Record<string, unknown>,
  next: (error?: unknown) => void,
): boolean {
  const pending = responseLocals(res).auditPending;
  try {
    auditLogOf(req).record(contextOf(req, res), {
      action,
      outcome: 'failure',
      resource: pending?.resource ?? null,
      metadata: {
        ...metadata,
        method: req.method,
        path: req.baseUrl + req.path,
        ...(pending ? { attempted_action: pending.action } : {}),
      },
    });
  } catch (error) {
    next(error instanceof AuditUnavailableError ? error : new AuditUnavailableError(error));
    return false;
  }
  if (pending) pending.recorded = true;
  else responseLocals(res).auditPending = { action, resource: null, metadata: {}, anonymous: false, recorded: true };
  return true;
}

/**
 * Before the error mapper: a route that named its action and failed records the failure (a
 * refusal for lack of permission as permission_denied). If that record cannot be written, the
 * answer becomes 503 instead of the original error.
 */
export function auditFailures(logger: Logger): ErrorRequestHandler {
  return function recordFailure(error, req, res, next) {
    const pending = responseLocals(res).auditPending;
    const signedIn = responseLocals(res).principal !== undefined;
    if (!pending || pending.recorded || error instanceof AuditUnavailableError || (!signedIn && !pending.anonymous)) {
      next(error);
      return;
    }
    pending.recorded = true;
    const code = error instanceof DomainError ? error.code : 'internal_error';
    const forbidden = code === 'forbidden';
    try {
      auditLogOf(req).record(
        contextOf(req, res),
        forbidden
          ? {
              action: 'permission_denied',
              outcome: 'failure',
              resource: pending.resource,
              metadata: {
                ...pending.metadata,
                attempted_action: pending.action,
                required_permission: (error as DomainError).details['required_permission'] ?? null,
                method: req.method,
                path: req.baseUrl + req.path,
              },
            }
          : entryOf(pending, { outcome: 'failure', metadata: { error: code } }),
      );
    } catch (auditError) {
      logger.error({ err: auditError }, 'an audit record could not be written; the request fails');
      next(auditError instanceof AuditUnavailableError ? auditError : new AuditUnavailableError(auditError));
      return;
    }
    next(error);
  };
}
