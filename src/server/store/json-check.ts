import type { FieldProblem } from '../errors/index.js';

/** Deeper documents are refused: they cost stack on every read and no real event needs them. */
export const MAX_JSON_DEPTH = 64;

/**
 * Finds what JSON text cannot carry faithfully: numbers that JSON.parse turned into
 * Infinity (1e400) or rounded (integers past 2^53), and nesting deeper than MAX_JSON_DEPTH.
 * Storing those would silently change the client's data, so they are refused instead.
 * Stops at the first problem; recursion depth is bounded by MAX_JSON_DEPTH.
 */
export function findJsonProblem(value: unknown, path: string, depth = 0): FieldProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      if (!Number.isFinite(value)) return { path, problem: 'number is out of range (not a finite double)' };
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return { path, problem: 'integer is larger than 2^53 and would lose precision; send it as a string' };
      }
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (depth >= MAX_JSON_DEPTH) return { path, problem: `nesting is deeper than ${MAX_JSON_DEPTH} levels` };
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = findJsonProblem(value[i], `${path}/${i}`, depth + 1);
          if (problem) return problem;
        }
        return undefined;
      }
      for (const key in value) {
        const problem = findJsonProblem(
          (value as Record<string, unknown>)[key],
          `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          depth + 1,
        );
        if (problem) return problem;
      }
      return undefined;
    }
    default:
      // undefined, functions, symbols, bigints: only reachable from the library API.
      return { path, problem: `${typeof value} is not a JSON value` };
  }
}
