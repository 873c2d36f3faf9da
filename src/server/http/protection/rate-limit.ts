import type { RequestHandler, Response } from 'express';
import {
  batchCost,
  IpBlockedError,
  RateLimitedError,
  requestCost,
  type ProtectionService,
  type RateDecision,
} from '../../protection/index.js';
import { credentialOf } from '../auth.js';
import { locals } from '../locals.js';
import { protectionLocals } from './locals.js';

function setRateHeaders(res: Response, decision: RateDecision): void {
  res.setHeader('RateLimit-Limit', String(decision.limit));
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  res.setHeader('RateLimit-Reset', String(decision.resetSeconds));
  res.setHeader('X-RateLimit-Limit', String(decision.limit));
  res.setHeader('X-RateLimit-Remaining', String(decision.remaining));
}

function refused(res: Response, decision: RateDecision, what: string): RateLimitedError {
  res.setHeader('Retry-After', String(decision.retryAfterSeconds));
  return new RateLimitedError(
    `${what}: the limit is ${decision.limit} tokens; this request costs ${decision.cost}; retry after ${decision.retryAfterSeconds} s`,
    decision.retryAfterSeconds,
  );
}

const pathOf = (url: string): string => url.split('?', 1)[0]!;

/**
 * Rate limiting before authentication. Where the bucket is chosen, and why:
 * - no credential (login, /health, the UI's files): the client address's bucket, here;
 * - a credential: its tenant's bucket, right after authentication (`afterAuthentication`),
 *   because only a verified credential may spend a tenant's tokens. Choosing the bucket by the
 *   tenant a credential merely claims would let anyone drain another tenant's bucket with
 *   forged tokens. What is checked here is the address's budget of failed credentials (the
 *   free tier, charged after each 401), so guessing keys still meets a limit before the
 *   argon2 work of authentication. Verified credentials cost nothing here: on a loopback
 *   server every tenant's client shares 127.0.0.1, and must not share its bucket.
 */
export function rateLimitBeforeAuthentication(protection: ProtectionService): RequestHandler {
  return function rateLimitBeforeAuthentication(req, res, next) {
    if (!protection.rateLimited()) return next();
    const address = protectionLocals(res).clientIp ?? 'unknown';
    if (credentialOf(req.headers) === undefined) {
      const decision = protection.takeAddress(address, requestCost(req.method, pathOf(req.originalUrl), req.query));
      setRateHeaders(res, decision);
      if (!decision.allowed)
        return next(refused(res, decision, 'too many requests without a credential from this address'));
      return next();
    }
    const failures = protection.peekAuthFailures(address);
    setRateHeaders(res, failures);
    if (!failures.allowed) return next(refused(res, failures, 'too many failed credentials from this address'));
    res.once('finish', () => {
      if (res.statusCode === 401) protection.chargeAuthFailure(address);
    });
    next();
  };
}

/**
 * Runs right after authentication: the tenant's IP rules (the seed's full priority order), then
 * its token bucket at its adapted limit, charged what the request line says it costs.
 */
export function afterAuthentication(protection: ProtectionService): RequestHandler {
  return function afterAuthentication(req, res, next) {
    const { tenantId } = locals(res);
    const address = protectionLocals(res).clientAddress;
    if (address) {
      const decision = protection.checkIp(address, tenantId);
      if (!decision.allowed) {
        next(new IpBlockedError('requests from this address are refused for this tenant', { reason: decision.reason }));
        return;
      }
    }
    if (!protection.rateLimited()) return next();
    const decision = protection.takeTenant(tenantId, requestCost(req.method, pathOf(req.originalUrl), req.query));
    setRateHeaders(res, decision);
    if (!decision.allowed) return next(refused(res, decision, `tenant ${tenantId} is over its rate limit`));
    next();
  };
}

const BATCH_PATH = /^\/api\/v1\/events\/batch\/?$/;

/**
 * After the body is parsed: a batch costs by its size. The request's first token was taken
 * with the rest of its tenant's check; this takes the remainder, or refuses the batch whole.
 */
export function chargeBatch(protection: ProtectionService): RequestHandler {
  return function chargeBatch(req, res, next) {
    if (req.method !== 'POST' || !protection.rateLimited() || !BATCH_PATH.test(pathOf(req.originalUrl))) return next();
    const events = (req.body as { events?: unknown } | undefined)?.events;
    const extra = Array.isArray(events) ? batchCost(events.length) - 1 : 0;
    if (extra <= 0) return next();
    const { tenantId } = locals(res);
    const decision = protection.takeTenant(tenantId, extra);
    setRateHeaders(res, decision);
    if (!decision.allowed) return next(refused(res, decision, `tenant ${tenantId} is over its rate limit`));
    next();
  };
}
