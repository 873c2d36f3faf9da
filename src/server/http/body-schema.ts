import type { z } from 'zod';
import { InvalidRequestError } from '../errors/index.js';

/** Checks a request body against a zod schema; problems become a 400 with JSON-pointer paths. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  // No body at all reads as {}; a JSON null is a body, and not an object.
  const parsed = schema.safeParse(body === undefined ? {} : body);
  if (parsed.success) return parsed.data;
  throw new InvalidRequestError(
    'the request body is invalid',
    parsed.error.issues.map((issue) => ({
      path: `/${issue.path.map(String).join('/')}`,
      problem: issue.message,
    })),
  );
}
