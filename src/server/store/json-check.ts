import type { FieldProblem } from '../errors/index.js';

/** Deeper documents are refused: they cost stack on every read and no real event needs them. */
export const MAX_JSON_DEPTH = 64;

interface Found {
  /** Path segments from the problem up to the root (reversed), joined only when reported. */
  segments: string[];
  problem: string;
}

function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Finds what JSON text cannot carry faithfully: numbers that JSON.parse turned into
 * Infinity (1e400) or rounded (integers past 2^53), and nesting deeper than MAX_JSON_DEPTH.
 * Storing those would silently change the client's data, so they are refused instead.
 * Stops at the first problem; recursion depth is bounded by MAX_JSON_DEPTH. This runs on
 * every payload, so the valid path allocates nothing: the JSON pointer is built only on error.
 */
export function findJsonProblem(value: unknown, path: string): FieldProblem | undefined {
  const found = walk(value, 0);
  if (!found) return undefined;
  const pointer = found.segments.reverse().map(escapePointerSegment).join('/');
  return { path: pointer ? `${path}/${pointer}` : path, problem: found.problem };
}

function walk(value: unknown, depth: number): Found | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      if (!Number.isFinite(value)) return { segments: [], problem: 'number is out of range (not a finite double)' };
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        return {
          segments: [],
          problem: 'integer is larger than 2^53 and would lose precision; send it as a string',
        };
      }
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (depth >= MAX_JSON_DEPTH) return { segments: [], problem: `nesting is deeper than ${MAX_JSON_DEPTH} levels` };
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const found = walk(value[i], depth + 1);
          if (found) return (found.segments.push(String(i)), found);
        }
        return undefined;
      }
      for (const key in value) {
        const found = walk((value as Record<string, unknown>)[key], depth + 1);
        if (found) return (found.segments.push(key), found);
      }
      return undefined;
    }
    default:
      // undefined, functions, symbols, bigints: only reachable from the library API.
      return { segments: [], problem: `${typeof value} is not a JSON value` };
  }
}
