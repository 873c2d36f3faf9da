import type { RequestHandler } from 'express';
import { OriginNotAllowedError, type ProtectionService } from '../../protection/index.js';
import { protectionLocals } from './locals.js';

/** JSON answers get the API's CSP; everything else is the admin UI's files and pages. */
const API_PATH = /^\/(?:api\/|health$|metrics$)/;

/**
 * The request id, the security headers and CORS (seed: Middleware Stack). Set before any later
 * step can answer, so refusals from rate limiting and authentication carry them too. A CORS
 * preflight is answered here: 204 for an allowed origin, 403 for any other.
 */
export function requestContext(protection: ProtectionService): RequestHandler {
  return function requestContext(req, res, next) {
    const requestId = protection.requestIdFor(req.headers['x-request-id']);
    protectionLocals(res).requestId = requestId;
    res.setHeader('X-Request-ID', requestId);
    for (const [name, value] of protection.headers(API_PATH.test(req.path) ? 'api' : 'ui')) res.setHeader(name, value);
    const origin = req.headers.origin;
    const cors = protection.cors();
    for (const [name, value] of cors.responseHeaders(origin)) res.setHeader(name, value);
    if (
      req.method === 'OPTIONS' &&
      origin !== undefined &&
      req.headers['access-control-request-method'] !== undefined
    ) {
      if (!cors.allows(origin)) {
        next(new OriginNotAllowedError('this origin may not call the API (it is not in cors_origins)'));
        return;
      }
      for (const [name, value] of cors.preflightHeaders()) res.setHeader(name, value);
      res.status(204).end();
      return;
    }
    next();
  };
}
