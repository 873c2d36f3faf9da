import type { RequestHandler, Response } from 'express';
import type { IpAddress } from '../../protection/index.js';

/** What the protection middleware attaches to a request (audit, issue 6, reads these too). */
export interface ProtectionLocals {
  /** The request's id: the client's X-Request-ID when well-formed, else a fresh UUID. */
  requestId?: string;
  /** The client address (X-Forwarded-For only through a trusted proxy). */
  clientAddress?: IpAddress;
  /** The same, as canonical text. */
  clientIp?: string;
}

export function protectionLocals(res: Response): ProtectionLocals {
  return res.locals as ProtectionLocals;
}

/**
 * Set on `app.locals` by createHttpApp. `authenticate` (http/auth.ts) runs it once the principal
 * is known, wherever a router authenticates, so the steps that need the tenant (its IP rules and
 * its rate limit) sit right after authentication on every route.
 */
export interface AuthenticationHooks {
  afterAuthentication?: RequestHandler;
}
