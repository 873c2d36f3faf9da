import argon2 from 'argon2';

/**
 * Hashes and checks passwords and API key secrets. Injected into the service so that tests can
 * count verifications; the app uses `createArgon2Hasher()`.
 */
export interface SecretHasher {
  hash(secret: string | Buffer): Promise<string>;
  /** Constant-time check; false (never a throw) for a wrong secret or a malformed hash. */
  verify(hash: string, secret: string | Buffer): Promise<boolean>;
  /**
   * A hash, at the same parameters, of a secret nobody knows. Checked against when there is no
   * real hash (unknown user, unknown key id), so that case costs the same as a wrong secret.
   */
  readonly dummyHash: string;
}

/** OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Made once with ARGON2_OPTIONS from 32 random bytes that were then thrown away. */
export const ARGON2_DUMMY_HASH =
  '$argon2id$v=19$m=19456,p=1,t=2$mt2CfmIWxBo60w7p04LPDA$nqpcOrjXv/SjF6d1qaADDYQVrMfXpzbh903iXS7VSPI';

export function createArgon2Hasher(): SecretHasher {
  return {
    hash: (secret) => argon2.hash(secret, ARGON2_OPTIONS),
    async verify(hash, secret) {
      try {
        return await argon2.verify(hash, secret);
      } catch {
        return false;
      }
    },
    dummyHash: ARGON2_DUMMY_HASH,
  };
}
