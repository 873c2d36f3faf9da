import express, { type RequestHandler } from 'express';
import { sendError } from './errors.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Refuses a request body that is not JSON with 415, then parses JSON bodies up to `limit`
 * bytes. Requiring JSON also means no cross-site HTML form can reach a state-changing route.
 */
export function jsonBody(limit: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, res, next) => {
    if (!hasBody(req.headers)) return next();
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      sendError(res, 415, 'unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)');
      return;
    }
    next();
  };
  // `type: () => true`: requireJson already checked the media type, including "+json" types.
  return [requireJson, express.json({ limit, strict: false, type: () => true })];
}
