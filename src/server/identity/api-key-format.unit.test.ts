import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatApiKey, newApiKeyParts, parseApiKey } from './api-key-format.js';
import { uuidTextOf } from './ids.js';

describe('API key format', () => {
  it('is ask_ + base64url of a 16-byte id and a 32-byte secret, and parses back', () => {
    const { keyId, secret } = newApiKeyParts(randomBytes);
    const key = formatApiKey(keyId, secret);
    expect(key).toMatch(/^ask_[A-Za-z0-9_-]{64}$/);
    const parsed = parseApiKey(key)!;
    expect(parsed.id).toBe(uuidTextOf(keyId));
    expect(parsed.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parsed.secret.equals(secret)).toBe(true);
  });

  it('parses any 48 bytes, not only ids this server made', () => {
    const bytes = Buffer.alloc(48, 0xff);
    expect(parseApiKey(`ask_${bytes.toString('base64url')}`)?.id).toBe('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('refuses garbage', () => {
    const good = formatApiKey(randomBytes(16), randomBytes(32));
    const garbage = [
      '',
      'ask_',
      good.slice(4),
      `ASK_${good.slice(4)}`,
      good.slice(0, -1),
      `${good}A`,
      `${good.slice(0, -1)}=`,
      `${good.slice(0, -1)}+`,
      ` ${good}`,
      `${good}\n`,
      `ask_${Buffer.alloc(48).toString('base64')}`.replace(/A/g, '/'),
      `ask_${'é'.repeat(64)}`,
      `ask_${Buffer.alloc(47).toString('base64url')}`,
      'eyJhbGciOiJIUzI1NiJ9.e30.x',
    ];
    for (const raw of garbage) expect(parseApiKey(raw), raw).toBeUndefined();
  });

  it('refuses parts of the wrong size', () => {
    expect(() => formatApiKey(randomBytes(15), randomBytes(32))).toThrow(RangeError);
    expect(() => formatApiKey(randomBytes(16), randomBytes(16))).toThrow(RangeError);
  });
});
