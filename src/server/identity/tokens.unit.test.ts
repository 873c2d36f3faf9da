import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from './errors.js';
import { msOfUuidV7, newUuidV7 } from './ids.js';
import { createTokenCodec, TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.js';

const NOW = Date.parse('2026-03-01T12:00:00.123Z');
const secret = randomBytes(32);
let clock = NOW;
const codec = createTokenCodec({ secret, now: () => clock, lifetimeSeconds: 3600, randomBytes });
const subject = { userId: 'user-1', tenantId: 'acme', role: 'developer' as const };
const iat = Math.floor(NOW / 1000);

/** A token with our claims, built by hand so that any one part can be wrong. */
function forge(changes: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: Uint8Array }) {
  const claims = {
    sub: 'user-1',
    tenant_id: 'acme',
    role: 'developer',
    iat,
    exp: iat + 3600,
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    jti: newUuidV7(NOW, randomBytes),
    ...changes.claims,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...changes.header }).sign(changes.key ?? secret);
}

async function refused(token: string | Promise<string>, message?: RegExp): Promise<void> {
  clock = NOW;
  const error = await codec.verify(await token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  if (message) expect((error as Error).message).toMatch(message);
}

describe('tokens', () => {
  it('carry sub, tenant_id, role, iat, exp, iss, aud and a UUIDv7 jti holding the issue time in ms', async () => {
    clock = NOW;
    const { token, jti, expiresAt } = await codec.issue(subject, NOW);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodeJwt(token)).toEqual({
      sub: 'user-1',
      tenant_id: 'acme',
      role: 'developer',
      iat,
      exp: iat + 3600,
      iss: 'allsource',
      aud: 'allsource-api',
      jti,
    });
    expect(msOfUuidV7(jti)).toBe(NOW);
    expect(expiresAt).toBe((iat + 3600) * 1000);
    expect(await codec.verify(token)).toEqual({ ...subject, jti, issuedMs: NOW, expiresAt });
  });

  it('gives each token its own jti', async () => {
    const a = await codec.issue(subject, NOW);
    const b = await codec.issue(subject, NOW);
    expect(a.jti).not.toBe(b.jti);
  });

  it('accept a hand-made token with the right key (the forging helper is sound)', async () => {
    clock = NOW;
    await expect(codec.verify(await forge({}))).resolves.toMatchObject(subject);
  });

  it('refuse alg none', async () => {
    const unsecured = new UnsecuredJWT({ tenant_id: 'acme', role: 'admin' })
      .setSubject('user-1')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setJti(newUuidV7(NOW, randomBytes))
      .encode();
    await refused(unsecured);
    // The same, with "none" spelled in other ways and a signature left on.
    const [, payload] = unsecured.split('.');
    for (const alg of ['none', 'None', 'NONE']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      await refused(`${header}.${payload}.`);
      await refused(`${header}.${payload}.c2lnbmF0dXJl`);
    }
  });

  it('refuse a token signed with another key, or with another algorithm', async () => {
    await refused(forge({ key: randomBytes(32) }));
    await refused(forge({ header: { alg: 'HS512' }, key: randomBytes(64) }));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs256 = await new SignJWT({ tenant_id: 'acme', role: 'admin' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('user-1')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setJti(newUuidV7(NOW, randomBytes))
      .sign(privateKey);
    await refused(rs256);
  });

  it('refuse an expired token, saying so', async () => {
    const { token } = await codec.issue(subject, NOW);
    clock = NOW + 3600 * 1000;
    await expect(codec.verify(token)).rejects.toThrow(/expired/);
  });

  it('refuse the wrong issuer or audience', async () => {
    await refused(forge({ claims: { iss: 'someone-else' } }));
    await refused(forge({ claims: { aud: 'another-api' } }));
    await refused(forge({ claims: { aud: ['another-api'] } }));
  });

  it('refuse edited claims', async () => {
    clock = NOW;
    const { token } = await codec.issue(subject, NOW);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    for (const edit of [{ role: 'admin' }, { tenant_id: 'default' }, { sub: 'user-2' }, { exp: iat + 999_999 }]) {
      const edited = Buffer.from(JSON.stringify({ ...claims, ...edit })).toString('base64url');
      await refused(`${header}.${edited}.${signature}`);
    }
  });

  it('refuse a key id or key URL in the header, even with the right key', async () => {
    await refused(forge({ header: { kid: '../../../../dev/null' } }));
    await refused(forge({ header: { kid: 'x' }, key: randomBytes(32) }));
    await refused(forge({ header: { jku: 'http://127.0.0.1/keys' } }));
    await refused(forge({ header: { typ: 'at+jwt' } }));
  });

  it('refuse missing or malformed claims', async () => {
    await refused(forge({ claims: { role: 'root' } }));
    await refused(forge({ claims: { tenant_id: 7 } }));
    const noJti = forge({ claims: { jti: undefined } });
    await refused(noJti);
    await refused(forge({ claims: { jti: '0f8fad5b-d9cb-469f-a165-70867728950e' } })); // a v4 id: no issue time
  });

  it('refuse garbage without echoing it', async () => {
    for (const garbage of ['', 'x', 'a.b.c', 'a.b', `${'a'.repeat(5000)}.b.c`]) {
      const error = await codec.verify(garbage).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnauthorizedError);
      if (garbage.length > 3) expect((error as Error).message).not.toContain(garbage);
    }
  });
});

describe('UUIDv7 token ids', () => {
  it('round-trip their millisecond and refuse other versions', () => {
    for (const ms of [0, 1, NOW, 2 ** 48 - 1]) expect(msOfUuidV7(newUuidV7(ms, randomBytes))).toBe(ms);
    expect(msOfUuidV7('0f8fad5b-d9cb-469f-a165-70867728950e')).toBeUndefined();
    expect(msOfUuidV7('not a uuid')).toBeUndefined();
  });
});
