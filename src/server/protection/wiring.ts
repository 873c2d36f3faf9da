import type { SqliteDatabase } from '../db/index.js';
import type { ProtectionSettings } from '../config/config.js';
import { parseCidr, type Cidr, type IpAddress } from './ip.js';
import { createLoadSampler } from './load-sampler.js';
import { createProtectionService, type ProtectionService } from './service.js';
import type { RateTierName } from './tiers.js';

export interface ProtectionWiringDependencies {
  db: SqliteDatabase;
  now: () => number;
  devMode: boolean;
  tenantTier: (tenantId: string) => RateTierName;
  setTenantTier: (tenantId: string, tier: RateTierName) => void;
  /** Anomaly detection's temporary IP blocks (see ProtectionDependencies). */
  temporarilyBlocked?: (address: IpAddress) => boolean;
}

export interface ProtectionWiring {
  /** Undefined when the config switches protection off (the bench's comparison). */
  http: { service: ProtectionService; startup: StartupView } | undefined;
  /** Stops the load sampler's event-loop histogram. */
  stop(): void;
}

export interface StartupView {
  allowed_hosts: readonly string[];
  trusted_proxies: readonly string[];
  tls: boolean;
  rate_limit_tier: string | null;
}

/** Builds the protection layer from its start-time settings, for the composition root. */
export function createProtection(settings: ProtectionSettings, deps: ProtectionWiringDependencies): ProtectionWiring {
  if (!settings.enabled) return { http: undefined, stop: () => undefined };
  const sampler = createLoadSampler();
  const service = createProtectionService({
    db: deps.db,
    now: deps.now,
    tenantTier: deps.tenantTier,
    setTenantTier: deps.setTenantTier,
    ...(deps.temporarilyBlocked ? { temporarilyBlocked: deps.temporarilyBlocked } : {}),
    sampleLoad: () => sampler.sample(),
    config: {
      devMode: deps.devMode,
      rateLimitTier: settings.rateLimitTier,
      allowedHosts: settings.allowedHosts,
      trustedProxies: settings.trustedProxies.map((text) => parseCidr(text)).filter((c): c is Cidr => c !== undefined),
      settings: { cors_origins: settings.corsOrigins, default_ip_action: settings.defaultIpAction },
    },
  });
  const startup: StartupView = {
    allowed_hosts: settings.allowedHosts,
    trusted_proxies: settings.trustedProxies,
    tls: settings.tls !== undefined,
    rate_limit_tier: settings.rateLimitTier ?? null,
  };
  return { http: { service, startup }, stop: () => sampler.stop() };
}
