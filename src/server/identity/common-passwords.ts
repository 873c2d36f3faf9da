import { dictionary } from '@zxcvbn-ts/language-common';

let loaded: ReadonlySet<string> | undefined;

/**
 * The common-password list shipped with the app: zxcvbn-ts's `passwords-common` (about 49,000
 * leaked passwords, all lowercase). Read-only data, decompressed on first use and then shared.
 */
export function commonPasswords(): ReadonlySet<string> {
  loaded ??= new Set(dictionary['passwords-common']);
  return loaded;
}
