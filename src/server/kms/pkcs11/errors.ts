import { DomainError } from '../../errors/index.js';

/** Why a PKCS#11 operation failed; stable, secret-free, safe in `details`. */
export type Pkcs11FailureReason =
  | 'module_unavailable'
  | 'token_not_found'
  | 'token_ambiguous'
  | 'pin_incorrect'
  | 'pin_locked'
  | 'key_missing'
  | 'key_ambiguous'
  | 'key_unsafe'
  | 'wrapped_key_missing'
  | 'wrapped_key_invalid'
  | 'wrapped_key_write_failed'
  | 'session_closed'
  | 'token_error';

/**
 * A PKCS#11 module, token or key could not be used. The message is one line and never holds the
 * PIN or key material: it names the module, token and key label, which are configuration, not secrets.
 *
 * @example
 * try { protector.load({ firstRun: false }); } catch (e) { if (e instanceof Pkcs11Error && e.reason === 'pin_incorrect') … }
 */
export class Pkcs11Error extends DomainError {
  readonly code = 'pkcs11_error';
  readonly reason: Pkcs11FailureReason;

  constructor(reason: Pkcs11FailureReason, message: string) {
    // One line, whatever a caller passes: a multi-line native message must not leak a stack.
    super(message.replace(/\s*\n[\s\S]*$/, ''), { reason });
    this.reason = reason;
  }
}

/** The CKR_* name of an error thrown by pkcs11js (`CKR_PIN_INCORRECT`), or undefined for other errors. */
export function ckrName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /\b(CKR_[A-Z0-9_]+)\b/.exec(error.message);
  return match?.[1];
}

/**
 * Turns whatever pkcs11js threw into a Pkcs11Error. Only the CKR_* name of the native error is kept:
 * pkcs11js messages carry a native stack, and nothing from the arguments (the PIN) is ever echoed.
 */
export function toPkcs11Error(error: unknown, doing: string): Pkcs11Error {
  if (error instanceof Pkcs11Error) return error;
  const ckr = ckrName(error);
  switch (ckr) {
    case 'CKR_PIN_INCORRECT':
      return new Pkcs11Error('pin_incorrect', 'the PKCS#11 PIN was refused');
    case 'CKR_PIN_LOCKED':
      return new Pkcs11Error('pin_locked', 'the PKCS#11 token is locked after too many wrong PINs');
    case 'CKR_PIN_LEN_RANGE':
    case 'CKR_PIN_INVALID':
      return new Pkcs11Error('pin_incorrect', 'the PKCS#11 PIN was refused (it has an invalid length or characters)');
    default:
      return new Pkcs11Error('token_error', `PKCS#11 failed while ${doing} (${ckr ?? 'native error'})`);
  }
}
