import { can, type Principal } from '../identity/index.js';
import type { PayloadView } from '../store/index.js';

/** Sealed payload values are shown in clear only to principals with the `decrypt` permission. */
export function payloadViewOf(principal: Principal): PayloadView {
  return can(principal, 'decrypt') ? 'plaintext' : 'redacted';
}
