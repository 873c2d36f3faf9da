import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import { pkcs11Protector, type Pkcs11ProtectorOptions } from '../pkcs11/index.js';
import { createSoftHsm, type SoftHsm } from '../pkcs11/testing/softhsm.js';
import { rotateMasterKey } from './rotate.js';

/** `keys rotate-master` with the PKCS#11 protector, against a real SoftHSM2 token. */

let hsm: SoftHsm;
let options: Pkcs11ProtectorOptions;
let dataDir: string;

beforeEach(() => {
  hsm = createSoftHsm('rotate-test');
  dataDir = join(hsm.dir, 'data');
  options = {
    module: hsm.module,
    tokenLabel: hsm.tokenLabel,
    pin: hsm.pin,
    keyLabel: 'allsource-master',
    wrappedKeyFile: join(hsm.dir, 'config', 'master-key.pkcs11.json'),
  };
});
afterEach(() => hsm.cleanup());

function open() {
  const config = loadConfig({
    flags: { port: '0', dataDir },
    env: { ALLSOURCE_CONFIG_DIR: join(hsm.dir, 'config'), ALLSOURCE_LOG_LEVEL: 'silent' },
  });
  return createApp(config, { protector: pkcs11Protector(options), logger: pino({ level: 'silent' }), env: {} });
}

it('re-keys the database under a new master key wrapped by the same token key; the data stays', async () => {
  const first = open();
  const appended = await first.store.append('default', { event_type: 'hsm.kept', entity_id: 'e-1', payload: { n: 1 } });
  first.keyring.createKey('default', 'k');
  const ciphertext = first.keyring.encrypt('default', 'k', Buffer.from('kept'));
  await first.close();
  const wrappedBefore = readFileSync(options.wrappedKeyFile, 'utf8');

  const report = await rotateMasterKey({ dataDir, protector: pkcs11Protector(options), durability: 'full' });
  expect(report.rows).toBeGreaterThan(0);
  expect(readFileSync(options.wrappedKeyFile, 'utf8')).not.toBe(wrappedBefore);
  expect(pkcs11Protector(options).pending.exists()).toBe(false);

  const second = open();
  try {
    const stored = second.store.getEvent('default', Buffer.from(appended.event_id.replaceAll('-', ''), 'hex'));
    expect(JSON.parse(stored.payloadJson)).toEqual({ n: 1 });
    expect(second.keyring.decrypt('default', 'k', ciphertext).toString()).toBe('kept');
  } finally {
    await second.close();
  }
});
