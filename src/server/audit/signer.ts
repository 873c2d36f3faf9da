import { randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { generateSigningKey, publicKeyOf, unwrapSigningKey, type DerivedKey } from '../kms/index.js';
import { DomainError } from '../errors/index.js';
import type { AuditStatements } from './statements.js';

/** The stored signing key does not open under this master key: the database or the key was swapped. */
export class AuditKeyError extends DomainError {
  readonly code = 'audit_key_unavailable';
}

export interface CheckpointSigner {
  readonly keyId: string;
  sign(message: Buffer): string;
  /** False for an unknown key id or a bad signature. */
  verify(keyId: string, message: Buffer, signatureBase64: string): boolean;
  publicKeys(): { key_id: string; public_key: string }[];
}

/**
 * Loads the checkpoint-signing key, generating and storing it (wrapped) on the first start.
 * The KEK is the caller's to zero; the unwrapped private key lives only in this process.
 */
export function loadSigner(statements: AuditStatements, kek: DerivedKey, now: () => number): CheckpointSigner {
  let rows = statements.signingKeys.all();
  if (rows.length === 0) {
    const created = generateSigningKey(kek, `audit-${randomUUID()}`);
    statements.insertSigningKey.run(created.keyId, created.publicKey, created.wrappedPrivate, now());
    rows = statements.signingKeys.all();
  }
  const current = rows.at(-1)!;
  const privateKey = unwrapSigningKey(kek, current.key_id, current.wrapped_private);
  if (!privateKey) {
    throw new AuditKeyError(`the audit signing key ${current.key_id} does not open with this master key`);
  }
  const publicKeys = new Map<string, KeyObject>(rows.map((row) => [row.key_id, publicKeyOf(row.public_key)]));
  return {
    keyId: current.key_id,
    sign: (message) => sign(null, message, privateKey).toString('base64'),
    verify(keyId, message, signatureBase64) {
      const key = publicKeys.get(keyId);
      if (!key || typeof signatureBase64 !== 'string') return false;
      try {
        return verify(null, message, key, Buffer.from(signatureBase64, 'base64'));
      } catch {
        return false;
      }
    },
    publicKeys: () => rows.map((row) => ({ key_id: row.key_id, public_key: row.public_key })),
  };
}
