import { Router } from 'express';
import type { Durability } from '../../config/index.js';
import type { IdentityService } from '../../identity/index.js';
import type { Metrics } from '../../metrics/index.js';
import { authenticate, rejectForeignTenant, requirePermission } from '../auth.js';
import { locals } from '../locals.js';

const TENANT_LABEL = /\btenant_id="([^"]*)"/;

/** Drops the series of other tenants: a tenant's credential must not even count another's events. */
function ownTenantOnly(text: string, tenantId: string): string {
  return text
    .split('\n')
    .filter((line) => {
      const label = TENANT_LABEL.exec(line);
      return !label || label[1] === tenantId;
    })
    .join('\n');
}

export interface HealthDependencies {
  metrics: Metrics;
  identity: IdentityService;
  devMode: boolean;
  version: string;
  durability: Durability;
  cipherPageSize: number;
  startedAt: number;
}

/** /health is public and says nothing about any tenant's data; /metrics is Prometheus text (permission metrics). */
export function healthRoutes(deps: HealthDependencies): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({
      status: 'healthy',
      service: 'allsource-core',
      version: deps.version,
      dev_mode: deps.devMode,
      locked: false,
      uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
      storage: {
        encrypted: true,
        engine: 'sqlite',
        cipher: 'sqlcipher',
        cipher_compatibility: 4,
        cipher_page_size: deps.cipherPageSize,
        durability: deps.durability,
      },
    });
  });

  router.get(
    '/metrics',
    authenticate(deps.identity, deps.devMode),
    requirePermission('metrics'),
    rejectForeignTenant,
    async (_req, res) => {
      const text = await deps.metrics.registry.metrics();
      res.type(deps.metrics.registry.contentType).send(ownTenantOnly(text, locals(res).tenantId));
    },
  );

  return router;
}
