import { InvalidRequestError } from '../errors/index.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * Refuses a new password that is too short or long (counted in characters, not bytes), equal
 * to the username (ignoring case), or in the common-password list (ignoring case: the list is
 * lowercase). The message never repeats the password.
 */
export function checkNewPassword(
  password: unknown,
  username: string,
  common: ReadonlySet<string>,
  field = 'password',
): string {
  const refuse = (problem: string): never => {
    throw new InvalidRequestError(`${field}: ${problem}`, [{ path: `/${field}`, problem }]);
  };
  if (typeof password !== 'string') return refuse('must be a string');
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    refuse(`must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
  const folded = password.toLowerCase();
  if (folded === username.toLowerCase()) refuse('must not be the username');
  if (common.has(folded)) refuse('is a commonly used password; choose another');
  return password;
}
