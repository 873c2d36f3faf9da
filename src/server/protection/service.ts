import { NotFoundError } from '../errors/index.js';
import type { SqliteDatabase } from '../db/index.js';
import { createAdaptiveLimiter, type AdaptiveStats } from './adaptive.js';
import { createClientAddressResolver, type ClientAddressInput } from './client-address.js';
import { createCorsPolicy, type CorsPolicy } from './cors.js';
import { securityHeaders, type ResponseKind } from './headers.js';
import { createHostCheck } from './host-check.js';
import { createIpFilter, type IpAction, type IpDecision, type IpFilter, type IpRule } from './ip-filter.js';
import { formatIp, type Cidr, type IpAddress } from './ip.js';
import type { SystemLoad } from './load-sampler.js';
import { createRequestIdPolicy } from './request-id.js';
import { createIpRuleRepository, toIpRule, toIpRuleView, type IpRuleView, type NewIpRule } from './rules.js';
import {
  applySettingsPatch,
  DEFAULT_SECURITY_SETTINGS,
  settingsProblem,
  type SecuritySettings,
  type SecuritySettingsPatch,
} from './settings.js';
import { prepareProtectionStatements } from './statements.js';
import { createKeyedRateLimiter, type RateDecision } from './token-bucket.js';
import { DEFAULT_TIER, TIER_LIMITS, type RateLimitConfig, type RateTierName } from './tiers.js';
import { InvalidRequestError } from '../errors/index.js';

/** Start-time protection settings, from the config (see config.ts). */
export interface ProtectionConfig {
  devMode: boolean;
  /** ALLSOURCE_RATE_LIMIT_TIER: replaces every tier (not the persisted overrides), for test and bench servers. */
  rateLimitTier: RateTierName | undefined;
  allowedHosts: readonly string[];
  trustedProxies: readonly Cidr[];
  /** Config-file starting values of the API-managed settings. */
  settings: Partial<Pick<SecuritySettings, 'cors_origins' | 'default_ip_action'>>;
}

export interface ProtectionDependencies {
  db: SqliteDatabase;
  /** Wall-clock milliseconds: timestamps, and the hours the adaptive limiter learns. */
  now: () => number;
  /** The tenant's stored tier; throws NotFoundError for an unknown tenant. */
  tenantTier: (tenantId: string) => RateTierName;
  /** Stores a tenant's tier (identity owns it). */
  setTenantTier: (tenantId: string, tier: RateTierName) => void;
  sampleLoad: () => SystemLoad;
  config: ProtectionConfig;
  newId?: () => string;
  /**
   * Temporary blocks kept outside the rule list (anomaly detection's enforcement, with an
   * expiry): checked before every rule, so no allow entry lets a blocked address through.
   */
  temporarilyBlocked?: (address: IpAddress) => boolean;
}

export type LimitSource = 'tier' | 'override' | 'config';

/** One tenant's limit as GET /api/v1/security/rate-limits shows it. */
export interface TenantRateLimit {
  tenant_id: string;
  tier: RateTierName;
  source: LimitSource;
  requests_per_minute: number;
  burst_size: number;
  adaptive: AdaptiveStats;
}

/** Tier, override and settings lookups are cached this long: another writer's change shows within it. */
const CACHE_MS = 1_000;
/** Unauthenticated clients with a bad credential: the free tier's 60 a minute (burst 100) per address. */
const AUTH_FAILURE_TIER: RateTierName = 'free';
const MAX_ADDRESS_BUCKETS = 10_000;
const MAX_TENANT_BUCKETS = 100_000;
const TEMPORARY_BLOCK: IpDecision = Object.freeze({ allowed: false, reason: 'temporary_block' });

/**
 * The protection layer's state and decisions: settings, IP rules, rate limits and adaptive
 * statistics. No Express here; http/protection turns these decisions into middleware.
 */
export function createProtectionService(deps: ProtectionDependencies) {
  const statements = prepareProtectionStatements(deps.db);
  const rules = createIpRuleRepository(statements, deps.now, deps.newId);
  const tenantBuckets = createKeyedRateLimiter({ now: deps.now, maxKeys: MAX_TENANT_BUCKETS });
  const addressBuckets = createKeyedRateLimiter({ now: deps.now, maxKeys: MAX_ADDRESS_BUCKETS });
  const clientAddressOf = createClientAddressResolver(deps.config.trustedProxies);
  const hostAllowed = createHostCheck({ allowedHosts: deps.config.allowedHosts });
  const requestIdFor = createRequestIdPolicy();

  let stored: SecuritySettingsPatch = readStoredSettings();
  let settings = resolveSettings();
  let derived = derive(settings);
  let filter: { filter: IpFilter; at: number } | undefined;
  const tiers = new Map<string, { tier: RateTierName; at: number }>();
  let overrides: { byTenant: Map<string, RateLimitConfig>; at: number } | undefined;
  const adaptive = createAdaptiveLimiter({
    now: deps.now,
    sampleLoad: deps.sampleLoad,
    config: () => settings.adaptive,
  });

  function readStoredSettings(): SecuritySettingsPatch {
    const row = statements.getSettings.get();
    return row ? (JSON.parse(row.value) as SecuritySettingsPatch) : {};
  }

  function resolveSettings(): SecuritySettings {
    return applySettingsPatch({ ...DEFAULT_SECURITY_SETTINGS, ...deps.config.settings }, stored);
  }

  function derive(current: SecuritySettings) {
    return {
      headers: { api: securityHeaders(current, 'api'), ui: securityHeaders(current, 'ui') },
      cors: createCorsPolicy({
        origins: current.cors_origins,
        methods: current.cors_methods,
        headers: current.cors_headers,
        maxAgeSeconds: current.cors_max_age,
      }),
    };
  }

  function ipFilter(): IpFilter {
    const now = deps.now();
    if (!filter || now - filter.at >= CACHE_MS) {
      const parsed = rules
        .all()
        .map(toIpRule)
        .filter((rule): rule is IpRule => rule !== undefined);
      filter = { filter: createIpFilter(parsed, settings.default_ip_action), at: now };
    }
    return filter.filter;
  }

  function overrideOf(tenantId: string): RateLimitConfig | undefined {
    const now = deps.now();
    if (!overrides || now - overrides.at >= CACHE_MS) {
      const byTenant = new Map<string, RateLimitConfig>();
      for (const row of statements.listOverrides.all()) {
        byTenant.set(row.tenant_id, { requests_per_minute: row.requests_per_minute, burst_size: row.burst_size });
      }
      overrides = { byTenant, at: now };
    }
    return overrides.byTenant.get(tenantId);
  }

  function tierOf(tenantId: string): RateTierName {
    const now = deps.now();
    const cached = tiers.get(tenantId);
    if (cached && now - cached.at < CACHE_MS) return cached.tier;
    const tier = deps.tenantTier(tenantId);
    if (tiers.size > MAX_TENANT_BUCKETS) tiers.clear();
    tiers.set(tenantId, { tier, at: now });
    return tier;
  }

  /** The tenant's configured limit before adaptation: override, else the config's tier, else its own. */
  function baseLimit(tenantId: string): { tier: RateTierName; source: LimitSource; config: RateLimitConfig } {
    const tier = tierOf(tenantId);
    const override = overrideOf(tenantId);
    if (override) return { tier, source: 'override', config: override };
    if (deps.config.rateLimitTier) {
      return { tier, source: 'config', config: TIER_LIMITS[deps.config.rateLimitTier] };
    }
    return { tier, source: 'tier', config: TIER_LIMITS[tier] };
  }

  const addressTier = (tier: RateTierName) => TIER_LIMITS[deps.config.rateLimitTier ?? tier];
  const invalidateFilter = () => (filter = undefined);

  return {
    hostAllowed,
    requestIdFor,
    clientAddress: (input: ClientAddressInput): IpAddress | undefined => clientAddressOf(input),
    formatAddress: formatIp,
    headers: (kind: ResponseKind): ReadonlyArray<[string, string]> => derived.headers[kind],
    cors: (): CorsPolicy => derived.cors,
    /** Rate limits apply: never in dev mode, and not when the settings switch them off. */
    rateLimited: (): boolean => !deps.config.devMode && settings.rate_limits_enabled,

    checkIpBeforeTenant: (address: IpAddress): IpDecision =>
      deps.temporarilyBlocked?.(address) ? TEMPORARY_BLOCK : ipFilter().checkBeforeTenant(address),
    checkIp: (address: IpAddress, tenantId: string): IpDecision =>
      deps.temporarilyBlocked?.(address) ? TEMPORARY_BLOCK : ipFilter().check(address, tenantId),
    /**
     * Whether `address` (acting for `tenantId`) would be refused were `rule` added or the default
     * action changed: the API refuses changes that would lock out the admin making them.
     */
    wouldBlock(address: IpAddress, tenantId: string, change: { rule?: NewIpRule; defaultAction?: IpAction }): boolean {
      const current = rules
        .all()
        .map(toIpRule)
        .filter((rule): rule is IpRule => rule !== undefined);
      const added = change.rule
        ? toIpRule({ ...change.rule, id: 'new', tenant_id: change.rule.tenantId, note: null, created_at: 0 })
        : undefined;
      const candidate = createIpFilter(
        added ? [...current, added] : current,
        change.defaultAction ?? settings.default_ip_action,
      );
      return !candidate.check(address, tenantId).allowed;
    },

    /** Takes `cost` from the tenant's bucket, at its adapted limit, and counts the use. */
    takeTenant(tenantId: string, cost: number): RateDecision {
      const limit = adaptive.limitFor(tenantId, baseLimit(tenantId).config);
      const decision = tenantBuckets.take(tenantId, limit, cost);
      if (decision.allowed) adaptive.record(tenantId, decision.cost);
      return decision;
    },
    /** Requests without a credential, per client address (login, /health, the UI's files). */
    takeAddress: (address: string, cost: number): RateDecision =>
      addressBuckets.take(`anonymous ${address}`, addressTier(DEFAULT_TIER), cost),
    /** Credentials that failed to authenticate, per address: peeked before authentication, charged after a 401. */
    peekAuthFailures: (address: string): RateDecision =>
      addressBuckets.peek(`failed ${address}`, addressTier(AUTH_FAILURE_TIER)),
    chargeAuthFailure: (address: string): RateDecision =>
      addressBuckets.take(`failed ${address}`, addressTier(AUTH_FAILURE_TIER), 1),

    rateLimitOf(tenantId: string): TenantRateLimit {
      const base = baseLimit(tenantId);
      return {
        tenant_id: tenantId,
        tier: base.tier,
        source: base.source,
        requests_per_minute: base.config.requests_per_minute,
        burst_size: base.config.burst_size,
        adaptive: adaptive.stats(tenantId, base.config),
      };
    },
    /** Sets explicit figures for a tenant, replacing its tier's until a tier is set again. */
    setOverride(tenantId: string, config: RateLimitConfig): TenantRateLimit {
      tierOf(tenantId); // NotFoundError for an unknown tenant, before anything is written
      statements.upsertOverride.run(tenantId, config.requests_per_minute, config.burst_size, deps.now());
      overrides = undefined;
      tenantBuckets.reset(tenantId);
      return this.rateLimitOf(tenantId);
    },
    /** Sets the tenant's tier and drops its override. */
    setTier(tenantId: string, tier: RateTierName): TenantRateLimit {
      deps.setTenantTier(tenantId, tier);
      statements.deleteOverride.run(tenantId);
      overrides = undefined;
      tiers.delete(tenantId);
      tenantBuckets.reset(tenantId);
      return this.rateLimitOf(tenantId);
    },

    listIpRules: (tenantId?: string): IpRuleView[] =>
      rules
        .all()
        .filter((row) => tenantId === undefined || row.tenant_id === tenantId)
        .map(toIpRuleView),
    getIpRule(id: string): IpRuleView {
      const row = rules.find(id);
      if (!row) throw new NotFoundError(`IP rule ${JSON.stringify(id)} does not exist`);
      return toIpRuleView(row);
    },
    addIpRule(rule: NewIpRule): IpRuleView {
      if (rule.scope === 'tenant' && rule.tenantId !== null) tierOf(rule.tenantId);
      const row = rules.add(rule);
      invalidateFilter();
      return toIpRuleView(row);
    },
    removeIpRule(id: string): void {
      rules.remove(id);
      invalidateFilter();
    },

    settings: (): SecuritySettings => settings,
    updateSettings(patch: SecuritySettingsPatch): SecuritySettings {
      const next = applySettingsPatch(settings, patch);
      const problem = settingsProblem(next);
      if (problem) throw new InvalidRequestError('the settings are inconsistent', [problem]);
      const merged: SecuritySettingsPatch = {
        ...stored,
        ...patch,
        ...(patch.adaptive ? { adaptive: { ...stored.adaptive, ...patch.adaptive } } : {}),
      };
      statements.putSettings.run(JSON.stringify(merged), deps.now());
      stored = merged;
      settings = resolveSettings();
      derived = derive(settings);
      invalidateFilter();
      return settings;
    },
    systemLoad: (): SystemLoad => adaptive.systemLoad(),
  };
}

export type ProtectionService = ReturnType<typeof createProtectionService>;
