import { InvalidRequestError, type FieldProblem } from '../errors/index.js';

/** A policy names at most this many fields: enough for any real event, small enough to check per event. */
export const MAX_POLICY_FIELDS = 64;
const MAX_POINTER_LENGTH = 512;
// Control characters have no business in a field name an operator types.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * The reference tokens of an RFC 6901 JSON pointer (`/card/number` → ["card", "number"]), or a
 * problem. The empty pointer (the whole payload) is refused: a payload must stay a JSON object.
 */
export function parsePointer(pointer: string): string[] | string {
  if (pointer.length === 0) return 'must not be empty: the whole payload cannot be encrypted';
  if (!pointer.startsWith('/')) return 'must start with "/"';
  if (pointer.length > MAX_POINTER_LENGTH) return `must be at most ${MAX_POINTER_LENGTH} characters`;
  if (CONTROL_CHARACTER.test(pointer) || !pointer.isWellFormed())
    return 'must not hold control characters or lone surrogates';
  if (/~(?![01])/.test(pointer)) return 'has "~" not followed by 0 or 1 (write ~0 for "~" and ~1 for "/")';
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (tokens.some((token) => token.length === 0)) return 'must not have an empty segment';
  return tokens;
}

/**
 * Checks a policy's `fields`: a non-empty list of distinct JSON pointers, none inside another
 * (encrypting `/card` already covers `/card/number`). Returns them in the order given.
 */
export function checkPolicyFields(fields: unknown): string[] {
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_POLICY_FIELDS) {
    throw new InvalidRequestError('fields must be a list of JSON pointers', [
      { path: '/fields', problem: `must be an array of 1 to ${MAX_POLICY_FIELDS} JSON pointers such as "/ssn"` },
    ]);
  }
  const problems: FieldProblem[] = [];
  const parsed: string[][] = [];
  fields.forEach((field, i) => {
    const parsedField = typeof field === 'string' ? parsePointer(field) : 'must be a string';
    if (typeof parsedField === 'string') problems.push({ path: `/fields/${i}`, problem: parsedField });
    else parsed.push(parsedField);
  });
  if (problems.length === 0) {
    for (let i = 0; i < parsed.length; i += 1) {
      for (let j = i + 1; j < parsed.length; j += 1) {
        const [a, b] = [parsed[i]!, parsed[j]!];
        if (!isPrefix(a, b) && !isPrefix(b, a)) continue;
        const [inner, outer] = b.length >= a.length ? [j, i] : [i, j];
        problems.push({
          path: `/fields/${inner}`,
          problem:
            a.length === b.length
              ? `repeats ${JSON.stringify(fields[outer])}`
              : `is inside ${JSON.stringify(fields[outer])}`,
        });
      }
    }
  }
  if (problems.length > 0) throw new InvalidRequestError('fields holds an invalid JSON pointer', problems);
  return fields as string[];
}

function isPrefix(shorter: string[], longer: string[]): boolean {
  return shorter.length <= longer.length && shorter.every((token, i) => token === longer[i]);
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function childKey(container: Container, token: string): string | number | undefined {
  if (Array.isArray(container)) {
    // RFC 6901 array indices: "0" or digits without a leading zero; "-" (past the end) is never a value.
    if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
    const index = Number(token);
    return index < container.length ? index : undefined;
  }
  return Object.hasOwn(container, token) ? token : undefined;
}

/** Where a pointer lands in a parsed document: the container and key holding the value, if present. */
export function locate(
  document: unknown,
  tokens: readonly string[],
): { parent: Container; key: string | number } | undefined {
  let current: unknown = document;
  for (let i = 0; i < tokens.length; i += 1) {
    if (!isContainer(current)) return undefined;
    const key = childKey(current, tokens[i]!);
    if (key === undefined) return undefined;
    if (i === tokens.length - 1) return { parent: current, key };
    current = (current as Record<string | number, unknown>)[key];
  }
  return undefined;
}
