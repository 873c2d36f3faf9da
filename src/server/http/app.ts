import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Durability } from '../config/index.js';
import type { Metrics } from '../metrics/index.js';
import type { IdentityService } from '../identity/index.js';
import type { FieldCrypto } from '../fields/index.js';
import type { Keyring } from '../kms/index.js';
import type { EventStore } from '../store/index.js';
import type { ServerResponse } from 'node:http';
import { authenticate, rejectForeignTenant, stillAuthorized } from './auth.js';
import { errorMapper, sendError } from './errors.js';
import type { AuditLog } from '../audit/index.js';
import { auditFailures, type AuditAppLocals } from './audit.js';
import { auditRoutes } from './routes/audit.js';
import { jsonBody } from './json-body.js';
import { encryptionRoutes } from './routes/encryption.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { identityRoutes } from './routes/identity.js';
import { kmsRoutes } from './routes/kms.js';
import { tenantRoutes } from './routes/tenants.js';
import { protectionChain, type AuthenticationHooks } from './protection/index.js';
import { securityRoutes, type SecurityRoutesDependencies } from './routes/security.js';
import type { ProtectionService } from '../protection/index.js';
import { subscribeRoutes } from './routes/subscribe.js';
import { anomalyRoutes } from './routes/anomalies.js';
import type { AnomalyEngine } from '../anomaly/index.js';
import { summaryRoutes } from './routes/summaries.js';

export interface HttpAppDependencies {
  store: EventStore;
  identity: IdentityService;
  /** The tenants' Vault-transit style keys (/api/v1/kms). */
  keyring: Keyring;
  /** Field-level encryption policies, rewrap and crypto-shredding. */
  fields: FieldCrypto;
  /** Requests without credentials act as dev-user of dev-tenant (admin). Loopback only. */
  devMode: boolean;
  metrics: Metrics;
  logger: Logger;
  version: string;
  durability: Durability;
  cipherPageSize: number;
  maxBodyBytes: number;
  sseHeartbeatMs: number;
  startedAt: number;
  uiDir: string | undefined;
  /** Open SSE responses; shutdown ends them. */
  openStreams: Set<ServerResponse>;
  /** Request protection (Host check, IP filter, headers, CORS, rate limits); absent, none of it runs. */
  protection?: { service: ProtectionService; startup: SecurityRoutesDependencies['startup'] } | undefined;
  /** The audit trail (README, "Audit"): every request under /api/v1 past authentication leaves one record. */
  audit: AuditLog;
  /** Anomaly detection over the audit stream (/api/v1/security/anomalies); absent, the routes are not mounted. */
  anomalies?: AnomalyEngine | undefined;
}

function countRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => metrics.httpRequests.inc({ method: req.method, status: String(res.statusCode) }));
    next();
  };
}

function adminUi(uiDir: string | undefined): express.Router {
  const router = express.Router();
  const index = uiDir ? join(uiDir, 'index.html') : undefined;
  if (uiDir && index && existsSync(index)) {
    router.use(express.static(uiDir, { index: 'index.html', fallthrough: true }));
    // Client-side routes of the single-page app.
    router.get(/^\/(?!api\/|health$|metrics$).*/, (_req, res) => res.sendFile(index));
  } else {
    router.get('/', (_req, res) =>
      sendError(res, 404, 'not_found', 'the admin UI is not built: run "npm run build", then restart'),
    );
  }
  return router;
}

/** The Express application: middleware chain, one router per resource, errors mapped once at the end. */
export function createHttpApp(deps: HttpAppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);

  app.use(countRequests(deps.metrics));
  (app.locals as AuditAppLocals).audit = deps.audit;
  // The protection chain runs before every router (README, "Request protection"); its per-tenant
  // steps run inside `authenticate`, wherever a router authenticates.
  const guard = deps.protection ? protectionChain(deps.protection.service) : undefined;
  if (guard) {
    app.use(...guard.before);
    (app.locals as AuthenticationHooks).afterAuthentication = guard.afterAuthentication;
  }
  app.use(healthRoutes(deps));
  const api = express.Router();
  const body = jsonBody(deps.maxBodyBytes);
  // Identity and tenant routes authenticate route by route (login is public); each names its permission.
  api.use(identityRoutes({ identity: deps.identity, devMode: deps.devMode, body }));
  api.use(tenantRoutes({ identity: deps.identity, devMode: deps.devMode, body }));
  // Before the security router, whose blanket admin check would otherwise hide read_audit's.
  if (deps.anomalies) {
    api.use(
      '/security/anomalies',
      anomalyRoutes({
        anomalies: deps.anomalies,
        identity: deps.identity,
        devMode: deps.devMode,
        body,
        heartbeatMs: deps.sseHeartbeatMs,
        stillAuthorized: (req) => stillAuthorized(req.headers, deps.identity, deps.devMode),
        openStreams: deps.openStreams,
      }),
    );
  }
  if (deps.protection) {
    const { service, startup } = deps.protection;
    api.use(securityRoutes({ protection: service, identity: deps.identity, devMode: deps.devMode, body, startup }));
  }
  // Everything else: authenticate before reading a body, then refuse a foreign tenant_id.
  api.use(authenticate(deps.identity, deps.devMode), ...body, rejectForeignTenant, ...(guard ? [guard.afterBody] : []));
  api.use(
    subscribeRoutes({
      store: deps.store,
      metrics: deps.metrics,
      heartbeatMs: deps.sseHeartbeatMs,
      stillAuthorized: (req) => stillAuthorized(req.headers, deps.identity, deps.devMode),
      openStreams: deps.openStreams,
    }),
  );
  api.use(eventRoutes(deps));
  api.use(summaryRoutes(deps));
  api.use(kmsRoutes({ keyring: deps.keyring }));
  api.use(encryptionRoutes({ fields: deps.fields }));
  api.use(auditRoutes());
  app.use('/api/v1', api);
  app.use(adminUi(deps.uiDir));
  app.use((req, res) => sendError(res, 404, 'not_found', `no route matches ${req.method} on this path`));
  app.use(auditFailures(deps.logger), errorMapper(deps.logger));
  return app;
}
