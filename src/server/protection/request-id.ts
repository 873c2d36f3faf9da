import { randomUUID } from 'node:crypto';

/**
 * A client's X-Request-ID is kept only when it is 1 to 128 characters of letters, digits and
 * `._:-`: it goes into logs and response headers, so anything able to forge a log line, split
 * a header or flood a line is replaced by a fresh UUID.
 */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createRequestIdPolicy(generate: () => string = randomUUID) {
  return function requestIdFor(received: string | string[] | undefined): string {
    return typeof received === 'string' && REQUEST_ID.test(received) ? received : generate();
  };
}
