import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { InvalidRequestError } from '../errors/index.js';
import { errorMapper, sendError } from '../http/errors.js';
import { jsonBody } from '../http/json-body.js';
import { MAX_PASSPHRASE_LENGTH } from '../kms/index.js';
import { HostNotAllowedError } from '../protection/index.js';
import { AlreadyUnlockedError, LockedError } from './errors.js';

export const UNLOCK_PATH = '/api/v1/unlock';
/** A passphrase of 1024 characters, JSON-escaped at worst 6 bytes each, fits; anything larger is 413. */
export const UNLOCK_BODY_LIMIT = 8 * 1024;

export interface LockedFrontOptions {
  version: string;
  logger: Logger;
  isUnlocked(): boolean;
  /** The DNS-rebinding defence of the unlocked chain (protection's host check): it applies while locked too. */
  hostAllowed(host: string | undefined, localPort: number | undefined): boolean;
  /** Checks the passphrase and opens the store; rejects with WrongPassphraseError and friends. */
  unlock(passphrase: string): Promise<void>;
}

/** `{passphrase}`: a non-empty string of at most 1024 characters, and nothing else. */
export function parseUnlockBody(body: unknown): string {
  const refuse = (path: string, problem: string): never => {
    throw new InvalidRequestError(`${path.slice(1) || 'body'}: ${problem}`, [{ path, problem }]);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return refuse('', 'the body must be a JSON object {"passphrase": "..."}');
  }
  const fields = body as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (name !== 'passphrase') refuse(`/${name}`, 'is not a known field');
  }
  const passphrase = fields['passphrase'];
  if (typeof passphrase !== 'string') return refuse('/passphrase', 'must be a string');
  const length = [...passphrase].length;
  if (length === 0 || length > MAX_PASSPHRASE_LENGTH) {
    refuse('/passphrase', `must be 1 to ${MAX_PASSPHRASE_LENGTH} characters`);
  }
  return passphrase;
}

/**
 * What answers while the store is locked: `/health` (says "locked", and nothing about data),
 * `POST /api/v1/unlock`, and a 503 `locked` for everything else. After the unlock the server
 * sends every request to the real application, except the unlock path, which then answers 409.
 */
export function createLockedFront(options: LockedFrontOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);

  // A page that rebinds its name to 127.0.0.1 must not reach the unlock route (nor learn the store is locked).
  app.use((req, _res, next) => {
    next(
      options.hostAllowed(req.headers.host, req.socket.localPort)
        ? undefined
        : new HostNotAllowedError('the Host header does not name this server'),
    );
  });
  app.post(UNLOCK_PATH, ...jsonBody(UNLOCK_BODY_LIMIT), async (req, res) => {
    if (options.isUnlocked()) throw new AlreadyUnlockedError();
    await options.unlock(parseUnlockBody(req.body));
    res.json({ status: 'unlocked' });
  });
  app.all(UNLOCK_PATH, (_req, res) => {
    res.setHeader('Allow', 'POST');
    sendError(res, 405, 'method_not_allowed', 'use POST with {"passphrase": ...}');
  });
  app.get('/health', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'locked', service: 'allsource-core', version: options.version, locked: true });
  });
  app.use(() => {
    throw new LockedError();
  });
  app.use(errorMapper(options.logger));
  return app;
}

/** True when the request is for the unlock route (Express matches paths case-insensitively). */
export function isUnlockRequest(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0]!.toLowerCase().replace(/\/+$/, '');
  return path === UNLOCK_PATH;
}

/** WebSocket upgrades while locked: 503 with the same JSON body as every other route. */
export function refuseUpgradeWhileLocked(_req: IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify({ error: 'locked', message: new LockedError().message });
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
