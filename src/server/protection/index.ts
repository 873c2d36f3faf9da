/**
 * Request protection (SECURITY.md: Rate Limiting, Network Security, Security Headers, Advanced
 * §4): pure decisions, no Express. http/protection turns them into the middleware chain.
 *
 * @example
 * const protection = createProtectionService({ db, now: Date.now, tenantTier, setTenantTier,
 *   sampleLoad: createLoadSampler().sample, port: () => 8080, config });
 * protection.takeTenant('acme', 1).allowed; // false once acme's bucket is empty
 */
export { createAdaptiveLimiter, DEFAULT_ADAPTIVE_CONFIG, ANOMALY_MULTIPLE } from './adaptive.js';
export type { AdaptiveRateLimitConfig, AdaptiveRateLimiter, AdaptiveStats, Adjustment } from './adaptive.js';
export { createClientAddressResolver } from './client-address.js';
export { batchCost, requestCost, EVENTS_PER_TOKEN, ROWS_PER_TOKEN } from './cost.js';
export { canonicalOrigin, createCorsPolicy } from './cors.js';
export type { CorsPolicy } from './cors.js';
export {
  HostNotAllowedError,
  IpBlockedError,
  IpRuleConflictError,
  OriginNotAllowedError,
  RateLimitedError,
  UnsupportedMediaTypeError,
} from './errors.js';
export { securityHeaders } from './headers.js';
export type { ResponseKind } from './headers.js';
export { createHostCheck, LOOPBACK_HOST_NAMES } from './host-check.js';
export { cidrContains, formatIp, parseCidr, parseIp } from './ip.js';
export type { Cidr, IpAddress } from './ip.js';
export { createIpFilter } from './ip-filter.js';
export type { IpAction, IpDecision, IpFilter, IpRule, IpScope } from './ip-filter.js';
export { createLoadSampler, loadScore } from './load-sampler.js';
export type { LoadSampler, SystemLoad } from './load-sampler.js';
export { createRequestIdPolicy, REQUEST_ID } from './request-id.js';
export type { IpRuleView } from './rules.js';
export { createProtectionService } from './service.js';
export type {
  LimitSource,
  ProtectionConfig,
  ProtectionDependencies,
  ProtectionService,
  TenantRateLimit,
} from './service.js';
export { DEFAULT_SECURITY_SETTINGS, settingsPatchSchema } from './settings.js';
export type { SecuritySettings, SecuritySettingsPatch } from './settings.js';
export { createKeyedRateLimiter } from './token-bucket.js';
export type { KeyedRateLimiter, RateDecision } from './token-bucket.js';
export { DEFAULT_TIER, isRateTier, MAX_BURST_SIZE, MAX_REQUESTS_PER_MINUTE, RATE_TIERS, TIER_LIMITS } from './tiers.js';
export type { RateLimitConfig, RateTierName } from './tiers.js';
export { createProtection } from './wiring.js';
export type { ProtectionWiring, ProtectionWiringDependencies, StartupView } from './wiring.js';
export { TlsConfigError } from './errors.js';
