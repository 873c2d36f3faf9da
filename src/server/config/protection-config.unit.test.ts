import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

const base = { ALLSOURCE_CONFIG_DIR: '/cfg', ALLSOURCE_DATA_DIR: '/data' };

describe('protection settings in the config', () => {
  it('default to protection on, no extra hosts, proxies or origins, allow by default, no TLS', () => {
    expect(loadConfig({ env: base }).protection).toEqual({
      enabled: true,
      allowedHosts: [],
      trustedProxies: [],
      corsOrigins: [],
      defaultIpAction: 'allow',
      rateLimitTier: undefined,
      tls: undefined,
    });
  });

  it('read comma-separated lists from the environment', () => {
    const { protection } = loadConfig({
      env: {
        ...base,
        ALLSOURCE_ALLOWED_HOSTS: 'allsource.internal, proxy.example:8443',
        ALLSOURCE_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8',
        ALLSOURCE_CORS_ORIGINS: 'https://app.example.com',
        ALLSOURCE_DEFAULT_IP_ACTION: 'block',
        ALLSOURCE_RATE_LIMIT_TIER: 'unlimited',
        ALLSOURCE_PROTECTION: 'off',
      },
    });
    expect(protection).toMatchObject({
      enabled: false,
      allowedHosts: ['allsource.internal', 'proxy.example:8443'],
      trustedProxies: ['127.0.0.1', '10.0.0.0/8'],
      corsOrigins: ['https://app.example.com'],
      defaultIpAction: 'block',
      rateLimitTier: 'unlimited',
    });
  });

  it.each([
    [{ ALLSOURCE_TRUSTED_PROXIES: '10.0.0.1/8' }, /ALLSOURCE_TRUSTED_PROXIES is invalid/],
    [{ ALLSOURCE_CORS_ORIGINS: '*' }, /ALLSOURCE_CORS_ORIGINS is invalid/],
    [{ ALLSOURCE_CORS_ORIGINS: 'null' }, /ALLSOURCE_CORS_ORIGINS is invalid/],
    [{ ALLSOURCE_ALLOWED_HOSTS: 'evil host' }, /ALLSOURCE_ALLOWED_HOSTS is invalid/],
    [{ ALLSOURCE_RATE_LIMIT_TIER: 'gold' }, /ALLSOURCE_RATE_LIMIT_TIER is invalid/],
    [{ ALLSOURCE_TLS_CERT_FILE: '/nonexistent/cert.pem' }, /needs both/],
    [
      { ALLSOURCE_TLS_CERT_FILE: '/nonexistent/cert.pem', ALLSOURCE_TLS_KEY_FILE: '/nonexistent/key.pem' },
      /the TLS certificate file \/nonexistent\/cert.pem cannot be read \(ENOENT\)/,
    ],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({ env: { ...base, ...env } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { ...base, ...env } })).toThrow(message);
  });
});
