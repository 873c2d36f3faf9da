import { deriveKey, type MasterKey } from '../kms/index.js';
import { IdentityConfigError } from './errors.js';

export const MIN_JWT_SECRET_LENGTH = 32;

/** The HS256 key for tokens. Never logged, never put in an error. */
export type JwtSecret = Uint8Array & { readonly __brand: 'JwtSecret' };

/**
 * The token signing key: ALLSOURCE_JWT_SECRET (its UTF-8 bytes) when set, refused when shorter
 * than 32 characters; otherwise HKDF(master key, "allsource/jwt"), so tokens survive restarts
 * and die with the master key. Call it before the master key is wiped.
 */
export function jwtSecretFrom(env: NodeJS.ProcessEnv, masterKey: MasterKey): JwtSecret {
  const configured = env['ALLSOURCE_JWT_SECRET'];
  if (configured !== undefined && configured !== '') {
    if ([...configured].length < MIN_JWT_SECRET_LENGTH) {
      throw new IdentityConfigError(
        `ALLSOURCE_JWT_SECRET is too short: it must be at least ${MIN_JWT_SECRET_LENGTH} characters (or unset it to derive the key from the master key)`,
      );
    }
    return Buffer.from(configured, 'utf8') as Uint8Array as JwtSecret;
  }
  return deriveKey(masterKey, 'allsource/jwt') as Uint8Array as JwtSecret;
}
