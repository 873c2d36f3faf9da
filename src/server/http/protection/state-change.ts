import type { RequestHandler } from 'express';
import { OriginNotAllowedError, UnsupportedMediaTypeError, type ProtectionService } from '../../protection/index.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * CSRF defence for state-changing methods. A page of another origin can send a form or a
 * "simple" fetch without asking first; such requests are refused here:
 * - a body, or even an empty one declared as a form or text, must be JSON (415): a form cannot
 *   send JSON, and a JSON fetch from another origin needs a preflight, which CORS refuses;
 * - an Origin header, which browsers add to every cross-origin request, must be this server's
 *   own (the Host just checked) or one of cors_origins (403).
 */
export function stateChangeGuard(protection: ProtectionService): RequestHandler {
  return function stateChangeGuard(req, _res, next) {
    if (SAFE_METHODS.has(req.method)) return next();
    const type = req.headers['content-type'];
    if ((type !== undefined || hasBody(req.headers)) && !JSON_TYPE.test(type ?? '')) {
      next(new UnsupportedMediaTypeError('the request body must be JSON (Content-Type: application/json)'));
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, req.headers.host) && !protection.cors().allows(origin)) {
      next(new OriginNotAllowedError('a state-changing request from another origin is refused'));
      return;
    }
    next();
  };
}

function isOwnOrigin(origin: string, host: string | undefined): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host?.toLowerCase();
  } catch {
    return false;
  }
}
