import { z } from 'zod';
import { DEFAULT_ADAPTIVE_CONFIG, type AdaptiveRateLimitConfig } from './adaptive.js';
import { canonicalOrigin } from './cors.js';
import type { IpAction } from './ip-filter.js';

/**
 * The platform-wide protection settings that GET|PUT /api/v1/security/settings manage. Header
 * names follow the seed's SecurityConfig; the config file gives the starting values and what a
 * PUT stores wins over them from then on.
 */
export interface SecuritySettings {
  enable_hsts: boolean;
  hsts_max_age: number;
  enable_frame_options: boolean;
  frame_options: 'DENY' | 'SAMEORIGIN';
  enable_content_type_options: boolean;
  enable_xss_protection: boolean;
  /** For JSON answers: nothing loads, nothing frames them. */
  csp_api: string;
  /** For the admin UI's pages. */
  csp_ui: string;
  referrer_policy: string;
  cors_origins: string[];
  cors_methods: string[];
  cors_headers: string[];
  cors_max_age: number;
  default_ip_action: IpAction;
  /** Off: no token bucket is consulted (dev mode is always off). */
  rate_limits_enabled: boolean;
  adaptive: AdaptiveRateLimitConfig;
}

/** The seed's strict CSP, for the UI; the API's is stricter still, as JSON needs nothing loaded. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const DEFAULT_SECURITY_SETTINGS: Readonly<SecuritySettings> = Object.freeze({
  enable_hsts: true,
  hsts_max_age: 31_536_000,
  enable_frame_options: true,
  frame_options: 'DENY',
  enable_content_type_options: true,
  enable_xss_protection: true,
  csp_api: API_CSP,
  csp_ui: UI_CSP,
  referrer_policy: 'no-referrer',
  cors_origins: [],
  cors_methods: ['GET', 'POST', 'PUT', 'DELETE'],
  cors_headers: ['Content-Type', 'Authorization', 'X-API-Key', 'X-Request-ID', 'Last-Event-ID'],
  cors_max_age: 3600,
  default_ip_action: 'allow',
  rate_limits_enabled: true,
  adaptive: { ...DEFAULT_ADAPTIVE_CONFIG },
});

// Header values: printable ASCII only, so that no value can split a header or inject another.
const headerValue = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII');
const token = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP token');
const origin = z
  .string()
  .max(300)
  .refine((value) => canonicalOrigin(value) !== undefined, 'must be an http(s) origin such as https://app.example.com');

const adaptiveSchema = z
  .object({
    enabled: z.boolean(),
    min_rate_limit: z.number().int().min(1).max(1_000_000),
    max_rate_limit: z.number().int().min(1).max(1_000_000),
    learning_window_hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 90),
    adjustment_factor: z.number().min(0).max(0.9),
    enable_anomaly_throttling: z.boolean(),
    enable_load_based_adjustment: z.boolean(),
    enable_pattern_prediction: z.boolean(),
  })
  .partial()
  .strict();

/** A PUT body: any subset of the settings; `adaptive` merges field by field. */
export const settingsPatchSchema = z
  .object({
    enable_hsts: z.boolean(),
    hsts_max_age: z.number().int().min(0).max(63_072_000),
    enable_frame_options: z.boolean(),
    frame_options: z.enum(['DENY', 'SAMEORIGIN']),
    enable_content_type_options: z.boolean(),
    enable_xss_protection: z.boolean(),
    csp_api: headerValue(4000),
    csp_ui: headerValue(4000),
    referrer_policy: z.enum([
      'no-referrer',
      'no-referrer-when-downgrade',
      'origin',
      'origin-when-cross-origin',
      'same-origin',
      'strict-origin',
      'strict-origin-when-cross-origin',
    ]),
    cors_origins: z.array(origin).max(100),
    cors_methods: z.array(token).min(1).max(20),
    cors_headers: z.array(token).max(50),
    cors_max_age: z.number().int().min(0).max(86_400),
    default_ip_action: z.enum(['allow', 'block']),
    rate_limits_enabled: z.boolean(),
    adaptive: adaptiveSchema,
  })
  .partial()
  .strict();

export type SecuritySettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Applies a patch; the result is checked as a whole (e.g. the adaptive bounds stay ordered). */
export function applySettingsPatch(current: SecuritySettings, patch: SecuritySettingsPatch): SecuritySettings {
  const { adaptive, ...rest } = patch;
  const next: SecuritySettings = { ...current, ...rest, adaptive: { ...current.adaptive, ...adaptive } };
  return next;
}

/** The one cross-field rule; a message for a 400, or undefined. */
export function settingsProblem(settings: SecuritySettings): { path: string; problem: string } | undefined {
  if (settings.adaptive.min_rate_limit > settings.adaptive.max_rate_limit) {
    return { path: '/adaptive/min_rate_limit', problem: 'must not be above adaptive.max_rate_limit' };
  }
  return undefined;
}
