import type { DerivedKey } from '../master-key.js';
import { associatedData, KEY_BYTES, open, seal } from './aead.js';

/** The 32-byte AES key of one version of one tenant key. Never logged, never in an error, never stored in clear. */
export type VersionKey = Buffer & { readonly __brand: 'KeyringVersionKey' };

/** A 32-byte data key handed out by dataKey() for envelope encryption. */
export type DataKey = Buffer & { readonly __brand: 'KeyringDataKey' };

const WRAP_LABEL = 'allsource/keyring/version-key/v1';

function wrapAad(tenantId: string, name: string, version: number): Buffer {
  return associatedData(WRAP_LABEL, [tenantId, name, String(version)]);
}

/** nonce ‖ AES-256-GCM(KEK, key) ‖ tag, bound to tenant, name and version. */
export function wrapVersionKey(
  kek: DerivedKey,
  nonce: Buffer,
  tenantId: string,
  name: string,
  version: number,
  key: VersionKey,
): Buffer {
  return seal(kek, nonce, key, wrapAad(tenantId, name, version));
}

/** The version key, or undefined when the stored bytes do not decrypt for this tenant, name and version. */
export function unwrapVersionKey(
  kek: DerivedKey,
  tenantId: string,
  name: string,
  version: number,
  wrapped: Buffer,
): VersionKey | undefined {
  const key = open(kek, wrapped, wrapAad(tenantId, name, version));
  if (key === undefined || key.length !== KEY_BYTES) {
    key?.fill(0);
    return undefined;
  }
  return key as VersionKey;
}
