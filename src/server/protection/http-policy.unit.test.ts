import { describe, expect, it } from 'vitest';
import { createCorsPolicy } from './cors.js';
import { securityHeaders } from './headers.js';
import { createHostCheck } from './host-check.js';
import { createRequestIdPolicy } from './request-id.js';
import { applySettingsPatch, DEFAULT_SECURITY_SETTINGS, settingsPatchSchema, settingsProblem } from './settings.js';

describe('Host check (DNS rebinding)', () => {
  const check = createHostCheck({ allowedHosts: ['allsource.internal', 'proxy.example:8443'] });
  const allowed = (host: string | undefined) => check(host, 8080);

  it.each([
    'localhost:8080',
    '127.0.0.1:8080',
    '[::1]:8080',
    'LOCALHOST:8080',
    'localhost.:8080',
    'allsource.internal',
    'allsource.internal:9',
    'proxy.example:8443',
  ])('serves %s', (host) => {
    expect(allowed(host)).toBe(true);
  });
  it.each([
    undefined,
    '',
    'localhost',
    'localhost:8081',
    '127.0.0.1:80',
    'evil.example:8080',
    '127.0.0.2:8080',
    'proxy.example',
    'proxy.example:8444',
    'localhost:8080@evil',
    'x'.repeat(400),
    '[::1',
    '127.0.0.1:8080:8080',
  ])('refuses %j', (host) => {
    expect(allowed(host)).toBe(false);
  });

  it('compares with the port the connection arrived on', () => {
    expect(check('127.0.0.1:43210', 43_210)).toBe(true);
    expect(check('127.0.0.1:43210', undefined)).toBe(false);
  });
});

describe('X-Request-ID', () => {
  const requestIdFor = createRequestIdPolicy(() => 'generated');
  it('keeps a well-formed id and replaces anything else', () => {
    expect(requestIdFor('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    for (const bad of [undefined, '', 'a b', 'x'.repeat(129), 'line\nbreak', '<script>', ['a', 'b']]) {
      expect(requestIdFor(bad as string | undefined)).toBe('generated');
    }
  });
});

describe('CORS', () => {
  const cors = createCorsPolicy({
    origins: ['https://app.example.com/', 'http://localhost:5173', 'null', '*'],
    methods: ['GET', 'POST'],
    headers: ['Content-Type'],
    maxAgeSeconds: 600,
  });
  it('allows listed origins exactly, echoing the origin, never * and never null', () => {
    expect(cors.allows('https://app.example.com')).toBe(true);
    expect(cors.allows('HTTPS://APP.EXAMPLE.COM')).toBe(true);
    expect(cors.responseHeaders('https://app.example.com')).toContainEqual([
      'Access-Control-Allow-Origin',
      'https://app.example.com',
    ]);
    for (const origin of [
      'null',
      '*',
      'https://app.example.com.evil.io',
      'http://app.example.com',
      'https://app.example.com:444',
    ]) {
      expect(cors.allows(origin)).toBe(false);
      expect(cors.responseHeaders(origin)).toEqual([['Vary', 'Origin']]);
    }
    expect(cors.responseHeaders(undefined)).toEqual([['Vary', 'Origin']]);
  });
  it('gives preflight headers', () => {
    expect(cors.preflightHeaders()).toEqual([
      ['Access-Control-Allow-Methods', 'GET, POST'],
      ['Access-Control-Allow-Headers', 'Content-Type'],
      ['Access-Control-Max-Age', '600'],
    ]);
  });
});

describe('security headers', () => {
  it('are the seed’s set, with a strict CSP for the API and the UI’s own', () => {
    const api = new Map(securityHeaders(DEFAULT_SECURITY_SETTINGS, 'api'));
    expect(api.get('Strict-Transport-Security')).toBe('max-age=31536000');
    expect(api.get('X-Frame-Options')).toBe('DENY');
    expect(api.get('X-Content-Type-Options')).toBe('nosniff');
    expect(api.get('X-XSS-Protection')).toBe('1; mode=block');
    expect(api.get('Referrer-Policy')).toBe('no-referrer');
    expect(api.get('Content-Security-Policy')).toMatch(/^default-src 'none'/);
    const ui = new Map(securityHeaders(DEFAULT_SECURITY_SETTINGS, 'ui'));
    expect(ui.get('Content-Security-Policy')).toContain("script-src 'self'");
  });
  it('follow the settings', () => {
    const settings = applySettingsPatch(DEFAULT_SECURITY_SETTINGS, {
      enable_hsts: false,
      frame_options: 'SAMEORIGIN',
      csp_api: '',
    });
    const headers = new Map(securityHeaders(settings, 'api'));
    expect(headers.has('Strict-Transport-Security')).toBe(false);
    expect(headers.has('Content-Security-Policy')).toBe(false);
    expect(headers.get('X-Frame-Options')).toBe('SAMEORIGIN');
  });
});

describe('settings', () => {
  it('refuses header injection, wildcard and null origins, unknown fields', () => {
    for (const bad of [
      { csp_api: "default-src 'none'\r\nSet-Cookie: x=1" },
      { cors_origins: ['*'] },
      { cors_origins: ['null'] },
      { cors_origins: ['https://a.example/path'] },
      { dev_mode: true },
      { adaptive: { adjustment_factor: 2 } },
      { cors_methods: ['GET POST'] },
    ]) {
      expect(settingsPatchSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
  it('merges adaptive settings field by field and checks the bounds stay ordered', () => {
    const next = applySettingsPatch(DEFAULT_SECURITY_SETTINGS, { adaptive: { min_rate_limit: 20_000 } });
    expect(next.adaptive.enabled).toBe(true);
    expect(settingsProblem(next)).toEqual({ path: '/adaptive/min_rate_limit', problem: expect.any(String) });
  });
});
