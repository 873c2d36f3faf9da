import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import { createAnomalyEngine, type AnomalyEngine } from './anomaly/index.js';
import { createAuditLog, type AuditLog } from './audit/index.js';
import type { Config } from './config/index.js';
import {
  acquireDataDirLock,
  CIPHER_PAGE_SIZE,
  databaseExists,
  databaseFile,
  openDatabase,
  prepareDataDir,
  type SqliteDatabase,
} from './db/index.js';
import { DomainError } from './errors/index.js';
import { createFieldCrypto, type FieldCrypto } from './fields/index.js';
import {
  attachWebSocket,
  createHttpApp,
  DEV_PRINCIPAL,
  principalActor,
  principalOf,
  stillAuthorized,
} from './http/index.js';
import { createWebServer, upgradeGuard } from './http/protection/index.js';
import { createHostCheck, createProtection, type ProtectionService } from './protection/index.js';
import {
  createIdentityService,
  jwtSecretFrom,
  PLATFORM_TENANT,
  type BootstrapResult,
  type IdentityService,
  type Principal,
} from './identity/index.js';
import {
  createKeyring,
  deriveKey,
  selectProtector,
  WrongPassphraseError,
  type Keyring,
  type MasterKey,
  type MasterKeyProtector,
} from './kms/index.js';
import { obtainMasterKey } from './kms/rotation/index.js';
import {
  AlreadyUnlockedError,
  createLockedFront,
  isUnlockRequest,
  LockedError,
  refuseUpgradeWhileLocked,
  UnlockGate,
  UnlockRateLimitedError,
  type UnlockGateOptions,
} from './locked/index.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import { createEventIdGenerator, createEventStore, type EventStore } from './store/index.js';

const DEV_TENANT = DEV_PRINCIPAL.tenantId;

/** The server could not start; the message is one line for a person. */
export class StartupError extends DomainError {
  readonly code = 'startup_failed';
}

/** The passphrase was right but the store could not be opened; the reason is in the server log only. */
export class UnlockFailedError extends DomainError {
  readonly code = 'unlock_failed';
}

export interface AppOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Defaults to selectProtector(env, config): ALLSOURCE_MASTER_KEY, else `key_protector`. */
  protector?: MasterKeyProtector;
  /**
   * The passphrase of a passphrase protector; defaults to ALLSOURCE_PASSPHRASE. Without one, the
   * app starts locked and waits for `unlock()` or `POST /api/v1/unlock`.
   */
  passphrase?: string;
  /** Called after an unlock that happens once the server listens (what the bootstrap did, e.g. a first admin). */
  onUnlocked?: (bootstrap: BootstrapResult) => void;
  /** Backoff between wrong passphrases; tests shorten it. */
  unlockGate?: UnlockGateOptions;
  now?: () => number;
  newEventId?: () => Uint8Array;
}

export interface App {
  /** The event store, identity, keyring and fields: while locked, reading them throws LockedError. */
  readonly store: EventStore;
  readonly identity: IdentityService;
  readonly keyring: Keyring;
  readonly fields: FieldCrypto;
  /** The audit trail (README, "Audit"). */
  readonly audit: AuditLog;
  readonly databaseFile: string;
  /** True until the master key is available and the database is open. */
  readonly locked: boolean;
  /**
   * Opens the store with the passphrase (argon2id, then AES-GCM unwrap of the master key).
   * WrongPassphraseError when it is wrong (nothing changes), AlreadyUnlockedError when open.
   * Attempts run one at a time, each wrong one doubling the wait before the next.
   */
  unlock(passphrase: string): Promise<void>;
  /**
   * Registers the bootstrap key or creates the first admin (see IdentityService.bootstrap), then
   * binds the configured host and port; resolves with the address actually bound. A locked app
   * listens too (bootstrap then runs at the unlock, and `bootstrap` here is empty).
   */
  listen(): Promise<{ url: string; host: string; port: number; bootstrap: BootstrapResult; locked: boolean }>;
  /** Stops taking requests, lets the ones in flight finish, commits what is queued, closes the database. */
  close(): Promise<void>;
}

const rootDir = fileURLToPath(new URL('../../', import.meta.url));
export const VERSION = (JSON.parse(readFileSync(`${rootDir}package.json`, 'utf8')) as { version: string }).version;
export const BUILT_UI_DIR = `${rootDir}dist/renderer`;

/** Waits this long for requests in flight at shutdown before cutting their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

/** Everything that needs the master key: built in one place, once the key is there. */
interface Opened {
  db: SqliteDatabase;
  store: EventStore;
  identity: IdentityService;
  keyring: Keyring;
  fields: FieldCrypto;
  audit: AuditLog;
  /** Undefined when anomaly detection (or the audit trail it reads) is off. */
  anomalies: AnomalyEngine | undefined;
  metrics: Metrics;
  /** Undefined when the config switches request protection off. */
  protection: ProtectionService | undefined;
  http: Express;
  openStreams: Set<ServerResponse>;
}

/**
 * Opens the encrypted database with the master key's derived keys and composes store, identity,
 * keyring, field encryption and HTTP. Zeroes the master key and the database key before returning.
 */
function openUnlocked(
  config: Config,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  options: AppOptions,
  masterKey: MasterKey,
): Opened {
  let db: SqliteDatabase;
  let jwtSecret;
  let keyringKek;
  let auditKek;
  const databaseKey = deriveKey(masterKey, 'allsource/sqlcipher');
  try {
    db = openDatabase({ dataDir: config.dataDir, key: databaseKey, durability: config.durability }).db;
    jwtSecret = jwtSecretFrom(env, masterKey);
    keyringKek = deriveKey(masterKey, 'allsource/keyring');
    auditKek = deriveKey(masterKey, 'allsource/audit');
  } finally {
    databaseKey.fill(0);
    masterKey.fill(0);
  }

  const metrics = createMetrics();
  const now = options.now ?? Date.now;
  let audit: AuditLog;
  try {
    // The checkpoint-signing key is unwrapped once; the KEK that wraps it is not kept.
    audit = createAuditLog({
      db,
      kek: auditKek,
      settings: config.audit,
      now,
      onError: (error) => logger.error({ err: error }, 'audit: a checkpoint or listener failed after a commit'),
    });
  } catch (error) {
    db.close();
    throw error;
  } finally {
    auditKek.fill(0);
  }
  if (!config.audit.enabled) logger.warn('AUDIT OFF (ALLSOURCE_AUDIT=off): for the bench only; nothing is recorded.');
  // The fields key's state changes (disable, destroy, …) reach the subject-key cache through this.
  let onKeyChanged: (tenantId: string) => void = () => undefined;
  const keyring = createKeyring({ db, kek: keyringKek, now, onKeyChanged: (tenantId) => onKeyChanged(tenantId) });
  const fields = createFieldCrypto({
    db,
    keyring,
    now,
    onRewrapProgress: (tenantId, status) =>
      logger.info({ tenant_id: tenantId, rewrap: status }, 'rewrap of subject keys progressed'),
    sealWorker: {
      onUnavailable: (reason) =>
        logger.warn(
          { reason },
          'field encryption: the seal worker is unavailable; large appends are sealed on the main thread',
        ),
    },
  });
  onKeyChanged = (tenantId) => fields.keyChanged(tenantId);
  const store = createEventStore({
    sealer: fields.sealer,
    db,
    now,
    newEventId: options.newEventId ?? createEventIdGenerator(),
    onCommitted: (tenantId, count) => metrics.eventsIngested.inc({ tenant_id: tenantId }, count),
    onListenerError: (error) => logger.error({ err: error }, 'a subscriber failed after a commit'),
  });
  const identity = createIdentityService({ db, now, jwtSecret, tokenLifetimeSeconds: config.tokenTtlSeconds });
  if (config.devMode) {
    logger.warn(
      'DEV MODE: requests without credentials act as dev-user of dev-tenant with the admin role. Never use this with real data.',
    );
    if (!identity.listTenants().some((tenant) => tenant.tenant_id === DEV_TENANT)) {
      identity.createTenant({ tenant_id: DEV_TENANT, name: 'Dev mode' });
    }
  }
  // Anomaly detection (README, "Anomaly detection"): judges each audit record after its commit;
  // its temporary IP blocks reach the IP filter through protection's `temporarilyBlocked` hook.
  const anomalies =
    config.anomaly.enabled && config.audit.enabled
      ? createAnomalyEngine({
          db,
          audit,
          access: identity,
          now,
          config: {
            threshold: config.anomaly.threshold,
            enforcement: config.anomaly.enforcement,
            blockMs: config.anomaly.blockMinutes * 60_000,
            // Dev mode's stand-in user is whatever script calls without credentials: not a person.
            velocityExempt: config.devMode ? [DEV_PRINCIPAL.subject] : [],
          },
          onError: (error) => logger.error({ err: error }, 'anomaly detection failed on a record'),
        })
      : undefined;
  if (anomalies) {
    audit.onRecorded((record, timestampMs) => void anomalies.observe(record, timestampMs));
    if (config.anomaly.enforcement) logger.info('anomaly enforcement is on: Block and RevokeAccess act');
  }
  // Request protection (README, "Request protection"); the tier is identity's, overrides its own.
  const protection = createProtection(config.protection, {
    db,
    now,
    devMode: config.devMode,
    tenantTier: (tenantId) => identity.getTenant(tenantId).rate_tier,
    setTenantTier: (tenantId, tier) => void identity.updateTenant(tenantId, { rate_tier: tier }),
    ...(anomalies ? { temporarilyBlocked: (address) => anomalies.isBlocked(address) } : {}),
  });
  const openStreams = new Set<ServerResponse>();
  const http = createHttpApp({
    audit,
    anomalies,
    protection: protection.http,
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
  return {
    db,
    store,
    identity,
    keyring,
    fields,
    audit,
    anomalies,
    metrics,
    protection: protection.http?.service,
    http,
    openStreams,
  };
}

/**
 * The composition root. Takes the data directory (a lock no other AllSource process can hold at
 * the same time), then either opens the database right away (key file, environment, any
 * protector that needs no person) or starts locked (a passphrase protector without a passphrase):
 * a thin front that answers /health and the unlock route and 503 `locked` to everything else,
 * until the passphrase arrives and `openUnlocked` builds the real application behind the same
 * HTTP server. Nothing listens until `listen()`.
 */
export function createApp(config: Config, options: AppOptions = {}): App {
  const env = options.env ?? process.env;
  const logger = options.logger ?? pino({ level: config.logLevel }, pino.destination(2));
  const log = (message: string) => logger.warn(message);
  const file = databaseFile(config.dataDir);
  prepareDataDir(config.dataDir);
  const lock = acquireDataDirLock(config.dataDir);

  let protector: MasterKeyProtector;
  let opened: Opened | undefined;
  /** Wrong passphrases since the start, recorded in the audit trail with the unlock that follows them. */
  let failedUnlocks = 0;
  let keyPromise: Promise<MasterKey> | undefined;
  const startPassphrase = options.passphrase ?? (env['ALLSOURCE_PASSPHRASE'] || undefined);
  try {
    protector = options.protector ?? selectProtector(env, config);
    if (!protector.needsSecret) {
      const key = obtainMasterKey(protector, {
        dataDir: config.dataDir,
        firstRun: !databaseExists(config.dataDir),
        log,
      });
      // Synchronous protectors open the database here, so a wrong key fails createApp as it always did.
      if (key instanceof Promise) keyPromise = key;
      else opened = openUnlocked(config, env, logger, options, key);
    } else if (startPassphrase === undefined && !protector.exists?.()) {
      throw new StartupError(
        `the master key is to be protected by a passphrase, but ${protector.description} does not exist: run "allsource keys protect --with passphrase" first, or give ALLSOURCE_PASSPHRASE on the first start`,
      );
    }
  } catch (error) {
    lock.release();
    throw error;
  }

  const gate = new UnlockGate(options.unlockGate);
  let bootstrapped: BootstrapResult | undefined;
  let listening = false;
  let closing: Promise<void> | undefined;
  let boundPort = config.port;
  let websocket: { close(): void } | undefined;

  const front = createLockedFront({
    version: VERSION,
    logger,
    isUnlocked: () => opened !== undefined,
    hostAllowed: createHostCheck({ allowedHosts: config.protection.allowedHosts }),
    unlock: (passphrase) => unlockForHttp(passphrase),
  });
  const server: Server = createWebServer(config.protection.tls, (req: IncomingMessage, res: ServerResponse) => {
    if (opened !== undefined && !isUnlockRequest(req)) opened.http(req, res);
    else front(req, res);
  });
  // Slow-loris guard: a client gets this long to send its headers and its body.
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;

  function activate(app: Opened): void {
    server.off('upgrade', refuseUpgradeWhileLocked);
    websocket = attachWebSocket(server, {
      store: app.store,
      metrics: app.metrics,
      logger,
      authenticate: (req) => principalOf(req.headers, app.identity, config.devMode),
      stillAuthorized: (req) => stillAuthorized(req.headers, app.identity, config.devMode),
      recheckMs: config.sseHeartbeatMs,
      originAllowed: (origin) => isOwnOrigin(origin, boundPort),
      networkGuard: app.protection ? upgradeGuard(app.protection) : undefined,
      recordSubscription: (req, principal) => recordWebSocketSubscription(app.audit, req, principal, logger),
      maxBufferedBytes: config.wsMaxBufferedBytes,
    });
    opened = app;
  }

  async function bootstrap(app: Opened): Promise<BootstrapResult> {
    const result = await app.identity.bootstrap({
      ...(config.bootstrapApiKey === undefined ? {} : { apiKey: config.bootstrapApiKey }),
      apiKeyTenant: config.bootstrapTenantId,
      adminPasswordFile: config.adminPasswordFile,
    });
    const resumed = app.fields.rewrap.resume();
    if (resumed > 0) logger.info({ jobs: resumed }, 'resuming rewrap jobs left running by the last process');
    recordStart(app.audit, result);
    return result;
  }

  /**
   * The start itself is audited in the platform tenant: how the server runs (dev mode, request
   * protection) can only change across a restart, so this record is where such changes show.
   */
  function recordStart(audit: AuditLog, result: BootstrapResult): void {
    if (!audit.enabled) return;
    audit.recordSystem({
      tenantId: PLATFORM_TENANT,
      action: 'server_started',
      outcome: 'success',
      metadata: {
        version: VERSION,
        dev_mode: config.devMode,
        protection: config.protection.enabled,
        durability: config.durability,
        unlocked_by: protector.needsSecret ? 'passphrase' : 'key',
      },
    });
    if (result.createdAdmin) {
      audit.recordSystem({
        tenantId: PLATFORM_TENANT,
        action: 'create_user',
        outcome: 'success',
        metadata: { username: result.createdAdmin.username, role: 'admin', first_run: true },
      });
    }
    if (result.bootstrapKey?.status === 'registered') {
      audit.recordSystem({
        tenantId: result.bootstrapKey.tenant_id,
        action: 'api_key_created',
        outcome: 'success',
        resource: result.bootstrapKey.id,
        metadata: { name: 'bootstrap', role: 'admin', bootstrap: true },
      });
    }
  }

  if (opened) activate(opened);
  else server.on('upgrade', refuseUpgradeWhileLocked);

  function unlock(passphrase: string): Promise<void> {
    return gate.attempt(async () => {
      if (opened !== undefined) throw new AlreadyUnlockedError();
      if (closing) throw new LockedError('the server is shutting down');
      const key = await obtainMasterKey(protector, {
        dataDir: config.dataDir,
        firstRun: !databaseExists(config.dataDir),
        secret: passphrase,
        log,
      });
      const app = openUnlocked(config, env, logger, options, key);
      let result: BootstrapResult;
      try {
        result = await bootstrap(app);
        if (closing) throw new LockedError('the server is shutting down');
      } catch (error) {
        app.fields.close();
        app.anomalies?.close();
        app.store.close();
        app.db.close();
        throw error;
      }
      activate(app);
      logger.info('unlocked: the database is open');
      if (app.audit.enabled) {
        // Wrong passphrases before this one could not be recorded (no database while locked): they are counted.
        app.audit.recordSystem({
          tenantId: PLATFORM_TENANT,
          action: 'unlock',
          outcome: 'success',
          metadata: { failed_attempts_before: failedUnlocks },
        });
        failedUnlocks = 0;
      }
      if (listening) options.onUnlocked?.(result);
      else bootstrapped = result;
    });
  }

  /** The HTTP route's unlock: anything but a wrong passphrase is logged, and answered without detail. */
  async function unlockForHttp(passphrase: string): Promise<void> {
    try {
      await unlock(passphrase);
    } catch (error) {
      if (
        error instanceof WrongPassphraseError ||
        error instanceof AlreadyUnlockedError ||
        error instanceof UnlockRateLimitedError ||
        error instanceof LockedError
      ) {
        if (error instanceof WrongPassphraseError) {
          failedUnlocks += 1;
          logger.warn({ failed_attempts: failedUnlocks }, 'unlock refused: wrong passphrase');
        }
        throw error;
      }
      logger.error({ err: error }, 'unlock failed after the passphrase was accepted');
      throw new UnlockFailedError('the store could not be opened: see the server log');
    }
  }

  function unlocked(): Opened {
    if (opened === undefined) throw new LockedError();
    return opened;
  }

  return {
    get store() {
      return unlocked().store;
    },
    get identity() {
      return unlocked().identity;
    },
    get keyring() {
      return unlocked().keyring;
    },
    get fields() {
      return unlocked().fields;
    },
    get audit() {
      return unlocked().audit;
    },
    get locked() {
      return opened === undefined;
    },
    databaseFile: file,
    unlock,

    async listen() {
      if (opened === undefined && keyPromise !== undefined) {
        activate(openUnlocked(config, env, logger, options, await keyPromise));
      } else if (opened === undefined && startPassphrase !== undefined) {
        await unlock(startPassphrase);
      }
      if (opened !== undefined && bootstrapped === undefined) bootstrapped = await bootstrap(opened);
      const result = bootstrapped ?? {};
      return new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(new StartupError(describeListenError(error, config.host, config.port)));
        };
        server.once('error', onError);
        server.listen(config.port, config.host, () => {
          server.off('error', onError);
          listening = true;
          const address = server.address() as AddressInfo;
          boundPort = address.port;
          const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          const url = `${config.protection.tls ? 'https' : 'http'}://${host}:${address.port}`;
          const locked = opened === undefined;
          logger.info({ url, database: file, key: protector.description, locked }, 'listening');
          if (locked) logger.warn('locked: the store opens after POST /api/v1/unlock with the passphrase');
          resolve({ url, host: address.address, port: address.port, bootstrap: result, locked });
        });
      });
    },

    close() {
      closing ??= (async () => {
        try {
          if (opened) {
            opened.fields.close();
            // Saves the learned baselines; records of requests still draining are judged, not saved.
            opened.anomalies?.close();
            await shutdown(server, opened.db, opened.store, websocket, opened.openStreams, logger, opened.audit);
          } else {
            await stopServer(server, logger);
            logger.info('stopped');
          }
        } finally {
          lock.release();
        }
      })();
      return closing;
    },
  };
}

async function stopServer(server: Server, logger: Logger): Promise<void> {
  const drained = new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    logger.warn('requests still running at shutdown; closing their connections');
    server.closeAllConnections();
  }, DRAIN_TIMEOUT_MS);
  await drained;
  clearTimeout(timer);
}

async function shutdown(
  server: Server,
  db: SqliteDatabase,
  store: EventStore,
  websocket: { close(): void } | undefined,
  openStreams: Set<ServerResponse>,
  logger: Logger,
  audit: AuditLog,
): Promise<void> {
  const drained = stopServer(server, logger);
  websocket?.close();
  for (const res of openStreams) res.end();
  server.closeIdleConnections();
  await drained;
  // Everything answered: commit what is still queued, sign the audit heads, then checkpoint and close the file.
  store.close();
  audit.close();
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

/** One `subscribe` record per WebSocket, like SSE's; false (refuse the upgrade) when it cannot be written. */
function recordWebSocketSubscription(
  audit: AuditLog,
  req: IncomingMessage,
  principal: Principal,
  logger: Logger,
): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    audit.record(
      {
        tenantId: principal.tenantId,
        actor: principalActor(principal, req.socket.remoteAddress ?? null),
        requestId: null,
      },
      {
        action: 'subscribe',
        outcome: 'success',
        resource: null,
        metadata: { transport: 'websocket', path: url.pathname },
      },
    );
    return true;
  } catch (error) {
    logger.error({ err: error }, 'audit: a WebSocket subscription could not be recorded; refused');
    return false;
  }
}
