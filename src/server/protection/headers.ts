import type { SecuritySettings } from './settings.js';

export type ResponseKind = 'api' | 'ui';

/**
 * The seed's security headers (SECURITY.md, "Headers Applied") plus Referrer-Policy, computed
 * once per settings change and per kind of response: the API's JSON gets the strict CSP, the
 * admin UI's pages the one that lets its own scripts and styles load.
 */
export function securityHeaders(settings: SecuritySettings, kind: ResponseKind): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (settings.enable_hsts) headers.push(['Strict-Transport-Security', `max-age=${settings.hsts_max_age}`]);
  if (settings.enable_frame_options) headers.push(['X-Frame-Options', settings.frame_options]);
  if (settings.enable_content_type_options) headers.push(['X-Content-Type-Options', 'nosniff']);
  if (settings.enable_xss_protection) headers.push(['X-XSS-Protection', '1; mode=block']);
  const csp = kind === 'api' ? settings.csp_api : settings.csp_ui;
  if (csp !== '') headers.push(['Content-Security-Policy', csp]);
  headers.push(['Referrer-Policy', settings.referrer_policy]);
  return headers;
}
