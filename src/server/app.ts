import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import type { Config } from './config/index.js';
import { CIPHER_PAGE_SIZE, databaseExists, openDatabase, type SqliteDatabase } from './db/index.js';
import { DomainError } from './errors/index.js';
import { attachWebSocket, createHttpApp, DEV_PRINCIPAL, principalOf, stillAuthorized } from './http/index.js';
import { createIdentityService, jwtSecretFrom, type BootstrapResult, type IdentityService } from './identity/index.js';
import { createKeyring, deriveKey, selectProtector, type Keyring, type MasterKeyProtector } from './kms/index.js';
import { createFieldCrypto, type FieldCrypto } from './fields/index.js';
import { createMetrics } from './metrics/index.js';
import { createEventIdGenerator, createEventStore, type EventStore } from './store/index.js';

const DEV_TENANT = DEV_PRINCIPAL.tenantId;

/** The server could not start; the message is one line for a person. */
export class StartupError extends DomainError {
  readonly code = 'startup_failed';
}

export interface AppOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Defaults to the environment's key or the key file named by the config. */
  protector?: MasterKeyProtector;
  now?: () => number;
  newEventId?: () => Uint8Array;
}

export interface App {
  readonly store: EventStore;
  readonly identity: IdentityService;
  readonly keyring: Keyring;
  readonly fields: FieldCrypto;
  readonly databaseFile: string;
  /**
   * Registers the bootstrap key or creates the first admin (see IdentityService.bootstrap), then
   * binds the configured host and port; resolves with the address actually bound.
   */
  listen(): Promise<{ url: string; host: string; port: number; bootstrap: BootstrapResult }>;
  /** Stops taking requests, lets the ones in flight finish, commits what is queued, closes the database. */
  close(): Promise<void>;
}

const rootDir = fileURLToPath(new URL('../../', import.meta.url));
export const VERSION = (JSON.parse(readFileSync(`${rootDir}package.json`, 'utf8')) as { version: string }).version;
export const BUILT_UI_DIR = `${rootDir}dist/renderer`;

/** Waits this long for requests in flight at shutdown before cutting their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The composition root: opens the encrypted database with the master key's derived key,
 * and wires store, metrics and HTTP. Nothing listens until `listen()`.
 */
export function createApp(config: Config, options: AppOptions = {}): App {
  const env = options.env ?? process.env;
  const logger = options.logger ?? pino({ level: config.logLevel }, pino.destination(2));
  const protector = options.protector ?? selectProtector(env, config.keyFile);
  const masterKey = protector.load({ firstRun: !databaseExists(config.dataDir) });
  const { db, file } = openDatabase({
    dataDir: config.dataDir,
    key: deriveKey(masterKey, 'allsource/sqlcipher'),
    durability: config.durability,
  });
  let jwtSecret;
  let keyringKek;
  try {
    jwtSecret = jwtSecretFrom(env, masterKey);
    keyringKek = deriveKey(masterKey, 'allsource/keyring');
  } finally {
    masterKey.fill(0);
  }

  const metrics = createMetrics();
  const now = options.now ?? Date.now;
  // The fields key's state changes (disable, destroy, …) reach the subject-key cache through this.
  let onKeyChanged: (tenantId: string) => void = () => undefined;
  const keyring = createKeyring({ db, kek: keyringKek, now, onKeyChanged: (tenantId) => onKeyChanged(tenantId) });
  const fields = createFieldCrypto({
    db,
    keyring,
    now,
    onRewrapProgress: (tenantId, status) =>
      logger.info({ tenant_id: tenantId, rewrap: status }, 'rewrap of subject keys progressed'),
  });
  onKeyChanged = (tenantId) => fields.keyChanged(tenantId);
  const store = createEventStore({
    sealer: fields.sealer,
    db,
    now: options.now ?? Date.now,
    newEventId: options.newEventId ?? createEventIdGenerator(),
    onCommitted: (tenantId, count) => metrics.eventsIngested.inc({ tenant_id: tenantId }, count),
    onListenerError: (error) => logger.error({ err: error }, 'a subscriber failed after a commit'),
  });
  const identity = createIdentityService({
    db,
    now: options.now ?? Date.now,
    jwtSecret,
    tokenLifetimeSeconds: config.tokenTtlSeconds,
  });
  if (config.devMode) {
    logger.warn(
      'DEV MODE: requests without credentials act as dev-user of dev-tenant with the admin role. Never use this with real data.',
    );
    if (!identity.listTenants().some((tenant) => tenant.tenant_id === DEV_TENANT)) {
      identity.createTenant({ tenant_id: DEV_TENANT, name: 'Dev mode' });
    }
  }
  const openStreams = new Set<ServerResponse>();
  const http = createHttpApp({
    store,
    identity,
    keyring,
    fields,
    devMode: config.devMode,
    metrics,
    logger,
    version: VERSION,
    durability: config.durability,
    cipherPageSize: CIPHER_PAGE_SIZE,
    maxBodyBytes: config.maxBodyBytes,
    sseHeartbeatMs: config.sseHeartbeatMs,
    startedAt: Date.now(),
    uiDir: config.uiDir,
    openStreams,
  });
  const server: Server = createServer(http);
  // Slow-loris guard: a client gets this long to send its headers and its body.
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  let boundPort = config.port;
  const websocket = attachWebSocket(server, {
    store,
    metrics,
    logger,
    authenticate: (req) => principalOf(req.headers, identity, config.devMode),
    stillAuthorized: (req) => stillAuthorized(req.headers, identity, config.devMode),
    recheckMs: config.sseHeartbeatMs,
    originAllowed: (origin) => isOwnOrigin(origin, boundPort),
    maxBufferedBytes: config.wsMaxBufferedBytes,
  });

  let closing: Promise<void> | undefined;

  return {
    store,
    identity,
    keyring,
    fields,
    databaseFile: file,

    async listen() {
      const bootstrap = await identity.bootstrap({
        ...(config.bootstrapApiKey === undefined ? {} : { apiKey: config.bootstrapApiKey }),
        apiKeyTenant: config.bootstrapTenantId,
        adminPasswordFile: config.adminPasswordFile,
      });
      const resumed = fields.rewrap.resume();
      if (resumed > 0) logger.info({ jobs: resumed }, 'resuming rewrap jobs left running by the last process');
      return new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(new StartupError(describeListenError(error, config.host, config.port)));
        };
        server.once('error', onError);
        server.listen(config.port, config.host, () => {
          server.off('error', onError);
          const address = server.address() as AddressInfo;
          boundPort = address.port;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          logger.info(
            { url: `http://${host}:${address.port}`, database: file, key: protector.description },
            'listening',
          );
          resolve({ url: `http://${host}:${address.port}`, host: address.address, port: address.port, bootstrap });
        });
      });
    },

    close() {
      fields.close();
      closing ??= shutdown(server, db, store, websocket, openStreams, logger);
      return closing;
    },
  };
}

async function shutdown(
  server: Server,
  db: SqliteDatabase,
  store: EventStore,
  websocket: { close(): void },
  openStreams: Set<ServerResponse>,
  logger: Logger,
): Promise<void> {
  const drained = new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
  websocket.close();
  for (const res of openStreams) res.end();
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn('requests still running at shutdown; closing their connections');
    server.closeAllConnections();
  }, DRAIN_TIMEOUT_MS);
  await drained;
  clearTimeout(timer);
  // Everything answered: commit what is still queued, then checkpoint and close the file.
  store.close();
  db.close();
  logger.info('stopped');
}

function isOwnOrigin(origin: string, port: number): boolean {
  try {
    const url = new URL(origin);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      ['localhost', '127.0.0.1', '::1'].includes(host) &&
      Number(url.port || (url.protocol === 'https:' ? 443 : 80)) === port
    );
  } catch {
    return false;
  }
}

function describeListenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use: stop the other program or choose another port with --port`;
    case 'EACCES':
      return `not allowed to listen on ${host}:${port}: choose a port above 1023 with --port`;
    case 'EADDRNOTAVAIL':
      return `address ${host} is not available on this machine`;
    default:
      return `cannot listen on ${host}:${port} (${error.code ?? error.message})`;
  }
}
