import { Router } from 'express';
import type { Durability } from '../../config/index.js';
import type { IdentityService } from '../../identity/index.js';
import type { Metrics } from '../../metrics/index.js';
import { authenticate, requirePermission } from '../auth.js';

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

  router.get('/metrics', authenticate(deps.identity, deps.devMode), requirePermission('metrics'), async (_req, res) => {
    const text = await deps.metrics.registry.metrics();
    res.type(deps.metrics.registry.contentType).send(text);
  });

  return router;
}
