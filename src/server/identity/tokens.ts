import { errors, jwtVerify, SignJWT } from 'jose';
import { UnauthorizedError } from './errors.js';
import { msOfUuidV7, newUuidV7, type RandomBytes } from './ids.js';
import { ROLES, type Role } from './types.js';

export const TOKEN_ISSUER = 'allsource';
export const TOKEN_AUDIENCE = 'allsource-api';
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** Anything longer is not one of our tokens; refused before any parsing. */
const MAX_TOKEN_LENGTH = 4096;
const ALLOWED_HEADER = new Set(['alg', 'typ']);

export interface TokenSubject {
  userId: string;
  tenantId: string;
  role: Role;
}

export interface VerifiedToken extends TokenSubject {
  jti: string;
  /** When the token was issued, in milliseconds (from the UUIDv7 `jti`; `iat` has whole seconds only). */
  issuedMs: number;
  /** `exp` in milliseconds. */
  expiresAt: number;
}

export interface TokenCodec {
  /** Signs a token issued at `issuedMs`; its `exp` is the lifetime after that. */
  issue(subject: TokenSubject, issuedMs: number): Promise<{ token: string; jti: string; expiresAt: number }>;
  /** The token's claims when its signature, algorithm, issuer, audience and times check out; else UnauthorizedError. */
  verify(token: string): Promise<VerifiedToken>;
}

export interface TokenCodecOptions {
  /** HS256 key: at least 32 bytes. Never logged. */
  secret: Uint8Array;
  now: () => number;
  lifetimeSeconds: number;
  randomBytes: RandomBytes;
}

/**
 * HS256 JWTs with claims sub, tenant_id, role, iat, exp, iss, aud and jti. Verification pins
 * the algorithm (so `alg: none` and RS/HS confusion are refused), the issuer and the audience,
 * and refuses any header but `alg` and `typ` (a `kid`, `jku` or `jwk` never selects a key).
 */
export function createTokenCodec(options: TokenCodecOptions): TokenCodec {
  const { secret, now, lifetimeSeconds, randomBytes } = options;
  const refuse = (message = 'the token is not valid'): never => {
    throw new UnauthorizedError(message);
  };

  return {
    async issue(subject, issuedMs) {
      const jti = newUuidV7(issuedMs, randomBytes);
      const iat = Math.floor(issuedMs / 1000);
      const exp = iat + lifetimeSeconds;
      const token = await new SignJWT({ tenant_id: subject.tenantId, role: subject.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(subject.userId)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setJti(jti)
        .sign(secret);
      return { token, jti, expiresAt: exp * 1000 };
    },

    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) refuse();
      let verified: Awaited<ReturnType<typeof jwtVerify>>;
      try {
        verified = await jwtVerify(token, secret, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'iat', 'exp', 'jti', 'tenant_id', 'role'],
        });
      } catch (error) {
        return refuse(error instanceof errors.JWTExpired ? 'the token has expired' : undefined);
      }
      const { payload, protectedHeader } = verified;
      if (Object.keys(protectedHeader).some((name) => !ALLOWED_HEADER.has(name))) refuse();
      if (protectedHeader.typ !== undefined && protectedHeader.typ !== 'JWT') refuse();
      const { sub, jti, exp, tenant_id: tenantId, role } = payload;
      const issuedMs = typeof jti === 'string' ? msOfUuidV7(jti) : undefined;
      if (
        typeof sub !== 'string' ||
        typeof tenantId !== 'string' ||
        typeof role !== 'string' ||
        !(ROLES as readonly string[]).includes(role) ||
        typeof exp !== 'number' ||
        issuedMs === undefined
      ) {
        return refuse();
      }
      return { userId: sub, tenantId, role: role as Role, jti: jti!, issuedMs, expiresAt: exp * 1000 };
    },
  };
}
