import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig, MIB } from './index.js';

const base = { ALLSOURCE_CONFIG_DIR: '/cfg', ALLSOURCE_DATA_DIR: '/data' };

describe('loadConfig', () => {
  it('has safe defaults: loopback, 8080, full durability, 1 MiB bodies, key file in the config folder', () => {
    const config = loadConfig({ env: base });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      durability: 'full',
      maxBodyBytes: MIB,
      dataDir: '/data',
      keyFile: '/cfg/master.key',
    });
  });

  it('takes flags over the environment', () => {
    const config = loadConfig({ env: { ...base, ALLSOURCE_PORT: '9000' }, flags: { port: '9100', dataDir: '/flag' } });
    expect(config.port).toBe(9100);
    expect(config.dataDir).toBe('/flag');
  });

  it('reads the environment', () => {
    const config = loadConfig({
      env: { ...base, ALLSOURCE_DURABILITY: 'normal', ALLSOURCE_MAX_BODY_BYTES: '2048', ALLSOURCE_HOST: '::1' },
    });
    expect(config).toMatchObject({ durability: 'normal', maxBodyBytes: 2048, host: '::1' });
  });

  it.each([
    [{ ALLSOURCE_PORT: '70000' }, /ALLSOURCE_PORT is invalid/],
    [{ ALLSOURCE_DURABILITY: 'sometimes' }, /ALLSOURCE_DURABILITY is invalid/],
    [{ ALLSOURCE_MAX_BODY_BYTES: '-1' }, /ALLSOURCE_MAX_BODY_BYTES is invalid/],
    [
      { ALLSOURCE_HOST: '192.168.1.10', ALLSOURCE_DEV_MODE: 'true' },
      /refusing to start in dev mode on 192\.168\.1\.10/,
    ],
    [{ ALLSOURCE_DEV_MODE: 'yes' }, /ALLSOURCE_DEV_MODE is invalid/],
    [{ ALLSOURCE_KEY_FILE: '/data/keys/master.key' }, /must not be inside the data directory/],
    [{ ALLSOURCE_PASSPHRASE_FILE: '/data/p.json' }, /passphrase file \/data\/p\.json must not be inside/],
    [{ ALLSOURCE_KEY_PROTECTOR: 'pkcs11' }, /needs pkcs11_module, pkcs11_token_label and pkcs11_key_label/],
    [{ ALLSOURCE_KEY_PROTECTOR: 'keychain' }, /ALLSOURCE_KEY_PROTECTOR is invalid/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({ env: { ...base, ...env } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { ...base, ...env } })).toThrow(message);
  });

  it('allows any address outside dev mode, now that every route needs a credential', () => {
    expect(loadConfig({ env: { ...base, ALLSOURCE_HOST: '0.0.0.0' } }).host).toBe('0.0.0.0');
    expect(loadConfig({ env: { ...base, ALLSOURCE_DEV_MODE: '1' } }).devMode).toBe(true);
    expect(loadConfig({ env: base }).devMode).toBe(false);
  });

  it('refuses a bad flag by its name', () => {
    expect(() => loadConfig({ env: base, flags: { port: 'http' } })).toThrow(/--port is invalid/);
  });
});

describe('key protector settings', () => {
  it('defaults the passphrase and PKCS#11 files to the config folder and leaves the protector to auto', () => {
    const config = loadConfig({ env: base });
    expect(config).toMatchObject({
      keyProtector: undefined,
      passphraseFile: '/cfg/master-key.passphrase.json',
      pkcs11: undefined,
    });
  });

  it('reads the PKCS#11 token settings, and never a PIN from the config file', () => {
    const config = loadConfig({
      env: {
        ...base,
        ALLSOURCE_KEY_PROTECTOR: 'pkcs11',
        ALLSOURCE_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
        ALLSOURCE_PKCS11_TOKEN_LABEL: 'allsource',
        ALLSOURCE_PKCS11_KEY_LABEL: 'master',
      },
    });
    expect(config.pkcs11).toEqual({
      module: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'allsource',
      keyLabel: 'master',
      wrappedKeyFile: '/cfg/master-key.pkcs11.json',
    });
  });
});

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});
