import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { DomainError } from '../errors/index.js';

/** The only place that knows which domain error code is which HTTP status. */
const STATUS_BY_CODE: Record<string, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  tenant_suspended: 403,
  not_found: 404,
  version_conflict: 409,
  conflict: 409,
  tenant_not_empty: 409,
  duplicate_event_id: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  host_not_allowed: 403,
  ip_blocked: 403,
  origin_not_allowed: 403,
  locked: 503,
  wrong_passphrase: 401,
  already_unlocked: 409,
  method_not_allowed: 405,
  store_closed: 503,
  invalid_ciphertext: 400,
  key_version_disabled: 400,
  key_disabled: 409,
  key_destroyed: 410,
  // Fail closed: the audit record of the request could not be written, so the request did nothing.
  audit_unavailable: 503,
};

export function sendError(
  res: Response,
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): void {
  // Every 401 names the scheme (RFC 9110), whether no credential came or a bad one did.
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="allsource"');
  res.status(status).json({ error: code, message, ...details });
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/** body-parser's failures, which arrive before any route runs. */
function bodyParserFailure(error: BodyParserError): [number, string, string] | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return [400, 'invalid_request', 'the request body is not valid JSON'];
    case 'entity.too.large':
      return [413, 'payload_too_large', `the request body is larger than the limit of ${error.limit} bytes`];
    case 'encoding.unsupported':
      return [
        415,
        'unsupported_media_type',
        'the Content-Encoding of the body is not supported (use gzip, deflate or br)',
      ];
    case 'charset.unsupported':
      return [415, 'unsupported_media_type', 'the request body must be UTF-8 JSON'];
    case 'request.size.invalid':
    case 'request.aborted':
      return [400, 'invalid_request', 'the request body was cut short'];
    default:
      return undefined;
  }
}

/**
 * Turns any error into the JSON error body of the wire contract. Unknown errors become a
 * 500 with no detail: their message may hold paths or internals, so it is only logged.
 */
export function errorMapper(logger: Logger): ErrorRequestHandler {
  return function mapError(error, req, res, next) {
    if (res.headersSent) {
      // A streamed body has already started; all that is left is to cut the connection.
      logger.warn({ err: error, path: req.path }, 'error after the response started');
      res.destroy();
      return;
    }
    if (error instanceof DomainError) {
      const status = STATUS_BY_CODE[error.code] ?? 500;
      sendError(res, status, error.code, error.message, error.details);
      return;
    }
    const parserFailure = bodyParserFailure(error as BodyParserError);
    if (parserFailure) {
      sendError(res, ...parserFailure);
      return;
    }
    // Client mistakes that arrive as a bare status 400: the router's URIError for a path with
    // bad percent-encoding, a Content-Encoding body that does not decompress.
    if ((error as { status?: unknown }).status === 400) {
      const message =
        error instanceof URIError
          ? 'the request path is not valid percent-encoding'
          : 'the request body could not be read';
      sendError(res, 400, 'invalid_request', message);
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    sendError(res, 500, 'internal_error', 'the server failed to handle this request');
    void next;
  };
}
