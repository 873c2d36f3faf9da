import type { RequestHandler } from 'express';
import type { ProtectionService } from '../../protection/index.js';
import { networkGuard } from './network.js';
import { afterAuthentication, chargeBatch, rateLimitBeforeAuthentication } from './rate-limit.js';
import { requestContext } from './request-context.js';
import { stateChangeGuard } from './state-change.js';

export { protectionLocals } from './locals.js';
export type { AuthenticationHooks, ProtectionLocals } from './locals.js';

/**
 * The protection steps of the chain, in order (README, "Request protection"):
 * network (Host, IP) → request id, headers, CORS → CSRF guard → rate limit → authentication →
 * [afterAuthentication: tenant IP rules, tenant rate limit] → authorization → tenant → handler.
 */
export interface ProtectionChain {
  /** App-level, before every router. */
  before: RequestHandler[];
  /** Run by `authenticate` once the principal is known. */
  afterAuthentication: RequestHandler;
  /** After the JSON body is parsed, on the data routes: the rest of a batch's cost. */
  afterBody: RequestHandler;
}

export function protectionChain(protection: ProtectionService): ProtectionChain {
  return {
    before: [
      networkGuard(protection),
      requestContext(protection),
      stateChangeGuard(protection),
      rateLimitBeforeAuthentication(protection),
    ],
    afterAuthentication: afterAuthentication(protection),
    afterBody: chargeBatch(protection),
  };
}
export { createWebServer } from './web-server.js';
export { upgradeGuard } from './network.js';
